// A page entered from the kiosk goes back to the kiosk loop (cfg.url) after cfg.ms without a click, tap, key,
// scroll or pointer move. Sent by web/scripts.py as (this)(cfg); installed once, its settings updated each time.
(cfg) => {
  const state = window.__sharpIdle || (window.__sharpIdle = {last: Date.now()});
  state.url = cfg.url; state.ms = cfg.ms;
  if (state.installed) return;
  state.installed = true;
  const poke = () => { state.last = Date.now(); };
  for (const t of ['pointerdown', 'pointermove', 'keydown', 'wheel', 'touchstart', 'scroll'])
    document.addEventListener(t, poke, {capture: true, passive: true});
  setInterval(() => { if (Date.now() - state.last > state.ms) window.location.assign(state.url); }, 500);
}
