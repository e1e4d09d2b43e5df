// The live page's keys: Space plays or pauses, the right arrow steps, R resets (new seeds). They press the
// page's own buttons (Streamlit gives each keyed element the class st-key-KEY) and are ignored while the
// visitor types or moves a control. Sent by web/scripts.py as (this)(cfg); installed once per page.
() => {
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
  });
}
