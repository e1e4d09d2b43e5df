// Kiosk: a click, tap or key press opens the scene on screen on the normal page (cfg.url, or the scene's own
// data-handoff). Modifier and function keys do not count (F11 toggles full screen when setting up the booth).
// Sent by web/scripts.py as (this)(cfg) with every scene; it installs its listeners once.
(cfg) => {
  window.__sharpKioskTarget = cfg.url;
  if (window.__sharpKioskLeave) return;
  window.__sharpKioskLeave = true;
  const go = (e) => {
    if (e.type === 'keydown' && (/^(F\d+|Shift|Control|Alt|Meta|CapsLock|Escape)$/.test(e.key))) return;
    e.preventDefault();
    // the scene on screen says where it hands off (a late script of an earlier scene cannot send it elsewhere)
    const shown = document.querySelector('[data-handoff]');
    window.location.assign((shown && shown.dataset.handoff) || window.__sharpKioskTarget);
  };
  for (const t of ['pointerdown', 'keydown']) document.addEventListener(t, go, {capture: true});
}
