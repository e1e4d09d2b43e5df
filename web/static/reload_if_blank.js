// A page whose app has vanished (white screen) reloads itself, at most cfg.max times in cfg.windowMs (the
// times kept in sessionStorage, sharpReloads). It lives in Streamlit's element tree, so the page guard
// (guard.js), which does the same from the page's own HTML, takes over where it runs. Sent by web/scripts.py
// as (this)(cfg).
(cfg) => {
  if (window.__sharpBlank || window.__sharpGuard) return;  // the page's own guard (guard.js) does this
  window.__sharpBlank = true;
  let since = null;
  setInterval(() => {
    const root = document.getElementById('root') || document.body;
    const blank = !document.querySelector('[data-testid="stApp"]') || !root.innerText.trim();
    if (!blank) { since = null; return; }
    since = since || Date.now();
    if (Date.now() - since < cfg.blankMs) return;
    const recent = JSON.parse(sessionStorage.getItem('sharpReloads') || '[]')
      .filter((t) => Date.now() - t < cfg.windowMs);
    if (recent.length >= cfg.max) return;
    sessionStorage.setItem('sharpReloads', JSON.stringify(recent.concat([Date.now()])));
    window.location.reload();
  }, 1000);
}
