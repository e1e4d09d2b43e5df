// The page guard: runs in the page's own HTML, before Streamlit's code and outside its element tree, and
// reloads a page whose app broke (an error that means Streamlit's element tree is lost), went blank, or never
// drew, at most cfg.max times in cfg.windowMs. web/guard.py puts it first in the page's head as (this)(cfg).
(cfg) => {
  if (window.__sharpGuard) return;
  const fatal = new RegExp(cfg.fatal), g = window.__sharpGuard = {start: Date.now(), seen: false, since: null,
    fatal: null};
  const note = (x) => {
    const text = String((x && (x.stack || x.message)) || x);
    if (!g.fatal && fatal.test(text)) g.fatal = {at: Date.now(), text: text.slice(0, 200)};
  };
  const error = console.error.bind(console);
  console.error = (...args) => {
    try { args.forEach(note); } catch (e) { /* never break the console */ }
    error(...args);
  };
  window.addEventListener('error', (e) => note(e.error || e.message), true);
  window.addEventListener('unhandledrejection', (e) => note(e.reason));
  const reload = (why) => {
    const now = Date.now();
    const recent = JSON.parse(sessionStorage.getItem('sharpReloads') || '[]').filter((t) => now - t < cfg.windowMs);
    if (recent.length >= cfg.max) return;
    sessionStorage.setItem('sharpReloads', JSON.stringify(recent.concat([now])));
    sessionStorage.setItem('sharpReloadWhy', why);
    window.location.reload();
  };
  setInterval(() => {
    const root = document.getElementById('root'), now = Date.now();
    const drawn = !!(document.querySelector('[data-testid="stApp"]') && root && root.innerText.trim());
    if (drawn) { g.seen = true; g.since = null; } else if (g.since === null) g.since = now;
    if (g.fatal && now - g.fatal.at > 1000) reload('error: ' + g.fatal.text);
    else if (g.seen && g.since !== null && now - g.since > cfg.blankMs) reload('blank');
    else if (!g.seen && now - g.start > cfg.firstMs) reload('never drawn');
  }, 500);
}
