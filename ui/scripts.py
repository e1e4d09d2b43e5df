"""Small browser scripts for the pages, as text: pure; a page sends one with st.html(unsafe_allow_javascript=True).

Each installs its listeners on the page's document once (a flag on window), so a page that sends the same
script on every rerun does not stack them; a script whose parameters change only updates them. Streamlit runs
such a script in the page itself, not in an iframe. The element that carries a script is hidden by `HIDE`.
"""
from __future__ import annotations

import json

# The st.html element that carries a script would otherwise leave a gap in the layout.
HIDE = "<style>.stElementContainer:has(script[data-sharp]) {display: none !important;}</style>"


def _script(body: str) -> str:
    return f"<script data-sharp>\n(() => {{\n{body}\n}})();\n</script>"


def shortcuts() -> str:
    """Live page keys: Space plays or pauses, the right arrow steps, R resets (new seeds).

    They press the page's own buttons (found by their keys: Streamlit gives each keyed element the class
    st-key-<key>), and are ignored while the visitor types or moves a control, so a focused slider still takes
    the arrow keys and a focused button still takes Space.
    """
    return _script("""
  if (window.__sharpKeys) return;
  window.__sharpKeys = true;
  const KEYS = {' ': 'play', 'ArrowRight': 'step', 'r': 'reset', 'R': 'reset'};
  const BUSY = 'input, textarea, select, button, a, [contenteditable], [role=slider], [role=spinbutton], '
    + '[role=combobox], [role=listbox], [role=textbox], [role=switch], [role=checkbox], [data-download]';
  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented || !(e.key in KEYS)) return;
    if (e.target && e.target.closest && e.target.closest(BUSY)) return;
    const button = document.querySelector('.st-key-' + KEYS[e.key] + ' button');
    if (!button || button.disabled) return;
    e.preventDefault();
    button.click();
  });""")


def downloads() -> str:
    """Makes the SVG / PNG buttons drawn inside each chart (ui/figures._svg) save that chart.

    The saved SVG is the chart as drawn, with the theme's text colour and font written in (the page draws text
    in currentColor) and without the buttons; the PNG is that SVG drawn at twice its size on the page's
    background colour.
    """
    return _script("""
  if (window.__sharpDownloads) return;
  window.__sharpDownloads = true;
  const save = (blob, name) => {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob); a.download = name; document.body.appendChild(a); a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 2000);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = getComputedStyle(e).backgroundColor;
      if (c && c !== 'transparent' && !/rgba\\(.*,\\s*0\\)$/.test(c)) return c;
    }
    return '#ffffff';
  };
  const standalone = (svg) => {
    const copy = svg.cloneNode(true), style = getComputedStyle(svg), box = svg.viewBox.baseVal;
    copy.querySelectorAll('.sharp-dl').forEach((e) => e.remove());
    copy.setAttribute('width', box.width); copy.setAttribute('height', box.height);
    copy.setAttribute('style', `color: ${style.color}; font-family: ${style.fontFamily}`);
    return new XMLSerializer().serializeToString(copy);
  };
  const go = (button) => {
    const svg = button.closest('svg'), kind = button.dataset.download;
    const name = `sharp-${svg.dataset.chart || 'chart'}.${kind}`, text = standalone(svg);
    if (kind === 'svg') return save(new Blob([text], {type: 'image/svg+xml'}), name);
    const box = svg.viewBox.baseVal, img = new Image();
    img.onload = () => {
      const canvas = document.createElement('canvas');
      canvas.width = 2 * box.width; canvas.height = 2 * box.height;
      const g = canvas.getContext('2d');
      g.fillStyle = background(svg); g.fillRect(0, 0, canvas.width, canvas.height);
      g.drawImage(img, 0, 0, canvas.width, canvas.height);
      canvas.toBlob((blob) => save(blob, name), 'image/png');
    };
    img.src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(text);
  };
  document.addEventListener('click', (e) => {
    const b = e.target.closest && e.target.closest('[data-download]');
    if (b) { e.preventDefault(); go(b); }
  });
  document.addEventListener('keydown', (e) => {
    if ((e.key === 'Enter' || e.key === ' ') && e.target.matches && e.target.matches('[data-download]')) {
      e.preventDefault(); e.stopPropagation(); go(e.target);
    }
  }, true);""")


def leave_kiosk(url: str) -> str:
    """Kiosk: a click, tap or key press opens `url` (the current scene's settings on the normal page).

    Modifier keys and function keys (F11 toggles full screen when setting up the booth) do not count.
    """
    return _script(f"""
  window.__sharpKioskTarget = {json.dumps(url)};
  if (window.__sharpKioskLeave) return;
  window.__sharpKioskLeave = true;
  const go = (e) => {{
    if (e.type === 'keydown' && (/^(F\\d+|Shift|Control|Alt|Meta|CapsLock|Escape)$/.test(e.key))) return;
    e.preventDefault();
    // the scene on screen says where it hands off (a late script of an earlier scene cannot send it elsewhere)
    const shown = document.querySelector('[data-handoff]');
    window.location.assign((shown && shown.dataset.handoff) || window.__sharpKioskTarget);
  }};
  for (const t of ['pointerdown', 'keydown']) document.addEventListener(t, go, {{capture: true}});""")


def return_when_idle(url: str, idle_s: float) -> str:
    """A page entered from the kiosk: after idle_s seconds without a click, tap, key, scroll or pointer move,
    go back to the kiosk loop at `url`."""
    return _script(f"""
  const state = window.__sharpIdle || (window.__sharpIdle = {{last: Date.now()}});
  state.url = {json.dumps(url)}; state.ms = {float(idle_s) * 1000:.0f};
  if (state.installed) return;
  state.installed = true;
  const poke = () => {{ state.last = Date.now(); }};
  for (const t of ['pointerdown', 'pointermove', 'keydown', 'wheel', 'touchstart', 'scroll'])
    document.addEventListener(t, poke, {{capture: true, passive: true}});
  setInterval(() => {{ if (Date.now() - state.last > state.ms) window.location.assign(state.url); }}, 500);""")


BLANK_S = 5.0  # a page blank this long reloads itself...
RELOADS = 3  # ... at most this many times in RELOADS_WINDOW_S
RELOADS_WINDOW_S = 300


def reload_if_blank() -> str:
    """A page whose app has vanished (white screen) reloads itself, at most RELOADS times in RELOADS_WINDOW_S.

    Seen under load (2 pages in 17 tries of 8 visitors opening the same live run at once): a page went white,
    its URL intact, and stayed so for minutes while the server was fine. The likely cause, not confirmed here:
    Streamlit's frontend unmounts everything when it throws while applying an update (upstream reports: a
    fragment's update landing where a full rerun has just cleared). The visitor's settings are in the URL, so
    a reload brings the same view back. The recent reloads' times are kept in sessionStorage (sharpReloads),
    which the load test reads. Seen once more in CI, with the console recorded: the page's connection to the
    server had dropped ("Cannot send rerun backMessage when disconnected from server"), its content was gone,
    and this watchdog, then sent at the end of the page, had not arrived. The live page now sends it first.
    """
    return _script(f"""
  if (window.__sharpBlank || window.__sharpGuard) return;  // the page's own guard (ui/guard.py) does this
  window.__sharpBlank = true;
  let since = null;
  setInterval(() => {{
    const root = document.getElementById('root') || document.body;
    const blank = !document.querySelector('[data-testid="stApp"]') || !root.innerText.trim();
    if (!blank) {{ since = null; return; }}
    since = since || Date.now();
    if (Date.now() - since < {BLANK_S * 1000:.0f}) return;
    const recent = JSON.parse(sessionStorage.getItem('sharpReloads') || '[]')
      .filter((t) => Date.now() - t < {RELOADS_WINDOW_S * 1000:.0f});
    if (recent.length >= {RELOADS}) return;
    sessionStorage.setItem('sharpReloads', JSON.stringify(recent.concat([Date.now()])));
    window.location.reload();
  }}, 1000);""")
