// The live page's browser side, loaded by the live area that web/stream.py's `area` draws, after its inline script
// set window.__sharpLiveCfg (a file, not inline text: Streamlit's HTML sanitizer drops an inline script whose text
// holds markup).
// It asks the server's api/live for the rows it does not have yet, keeps them across the page's reruns (per run),
// and draws the page's charts from them with uPlot (vendored: web/static/vendor/uplot). Each chart's definition
// (its runs, colours, labels, axes, band, marker) comes from the server (ui/figures.StreamChart.spec): this script
// turns it into uPlot's options once per chart and then only hands it the rows. The numbers over the charts come
// from the rows too; the messages and the neuron views come drawn from the server. When the view has reached a
// state the page's buttons must show (the run finished, a step arrived, a replay ended), it presses the page's
// hidden "live_sync" button, so that the page's script reruns once and relabels them.
// Every URL here is relative to the page's own address, as Streamlit's are: the page works under a path prefix.
(() => {
const CFG = window.__sharpLiveCfg;
if (!CFG) return;
const here = (path) => new URL(path, document.baseURI).href;
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
  .replace(/"/g, '&quot;').replace(/'/g, '&#x27;');
const fin = (v) => typeof v === 'number' && Number.isFinite(v);
const g3 = (v) => String(parseFloat(v.toPrecision(3)));  // a value in words: 3 significant digits
// A tick's label: 0.1 rather than 0.1000000001, 1e+5 rather than 100000; none for a tick uPlot leaves unlabelled.
const num = (v) => (v === null ? null : Math.abs(v) < 1e5 ? String(parseFloat(v.toPrecision(10))) : v.toExponential(0));

// uPlot, once per page (its style sheet comes inline with the live area). The live area asks for it beside this
// script (both load at once, so it may be there already); a page without that asks here.
const library = window.uPlot ? Promise.resolve() : (window.__sharpUplot = window.__sharpUplot || new Promise((ok, no) => {
  let js = document.querySelector('script[data-sharp-uplot]');
  if (!js) {
    js = document.createElement('script');
    js.src = here(CFG.uplot_js);
    document.head.appendChild(js);
  }
  js.addEventListener('load', ok); js.addEventListener('error', no);
}));

// A chart's data as uPlot takes it, from the rows of its runs up to `show`: [steps, then per run lo, hi, mean].
// On a log axis step 0 is left out. A run that stopped early (diverged) has no values after its last row.
function columns(spec, show) {
  const runs = spec.lines.map((l) => (S.rows[l.run] || []).slice(0, show));
  const longest = runs.reduce((a, r) => (r.length > a.length ? r : a), []);
  const from = spec.log_x ? longest.filter((r) => r[0] <= 0).length : 0;
  const xs = longest.slice(from).map((r) => r[0]), at = CFG.columns[spec.metric], data = [xs];
  for (const rows of runs)
    for (const k of [1, 2, 0]) data.push(xs.map((_, i) => { const r = rows[from + i], v = r && r[at + k]; return fin(v) ? v : null; }));
  return {data, runs};
}
// The y axis: 0 to the highest band of the runs that did not diverge (all runs if every one did), at least
// y_at_least, padded (ui/figures.shared_range).
function yTop(spec, {data, runs}) {
  const sane = runs.map((r) => r.length > 0 && !r[r.length - 1][9]), any = sane.some(Boolean);
  let top = -Infinity;
  spec.lines.forEach((_, j) => {
    if (any && !sane[j]) return;
    for (const v of data[2 + 3 * j]) if (v !== null && v > top) top = v;
  });
  return top === -Infinity && !spec.y_at_least ? 1 : Math.max(spec.y_at_least, top) * spec.y_pad;
}
// The chart in words (its text alternative): each run's last value and its seeds' range.
function describe(spec, {data}) {
  const parts = spec.lines.map((l, j) => {
    const mean = data[3 + 3 * j];
    let i = mean.length - 1;
    while (i >= 0 && mean[i] === null) i--;
    if (i < 0) return `${l.label} no value yet`;
    const lo = data[1 + 3 * j][i], hi = data[2 + 3 * j][i];
    return `${l.label} ${g3(mean[i])} at step ${data[0][i]}` + (hi > lo ? ` (seeds ${g3(lo)} to ${g3(hi)})` : '');
  });
  return `${spec.title} against ${spec.x_label} for ${spec.lines.map((l) => l.label).join(', ')}. ` +
    `${spec.title.split('  ')[0]}: ${parts.join('; ')}.`;
}
const latest = (values) => {
  for (let i = (values || []).length - 1; i >= 0; i--) if (values[i] !== null) return values[i];
  return null;
};
const alpha = (rgb, a) => rgb.replace(/^rgba?\(([^,]+),([^,]+),([^,)]+).*$/, `rgba($1,$2,$3,${a})`);
// uPlot's options from a chart's definition; `el` is the chart's place (its text colour and font are the theme's).
function options(spec, el, width) {
  const style = () => getComputedStyle(el), font = `${spec.font_px}px ${style().fontFamily}`;
  const ink = (a) => () => alpha(style().color, a);
  // The legend reads the values under the cursor, or the latest ones when the cursor is elsewhere.
  const value = (fmt) => (u, v, k, i) => { v = i === null ? latest(u.data[k]) : v; return v === null ? '—' : fmt(v); };
  const series = [{label: 'step', value: value(String)}], bands = [];
  spec.lines.forEach((l, j) => {
    for (const edge of ['best seed', 'worst seed'])
      series.push({label: `${l.label}, ${edge}`, class: 'sharp-band', stroke: l.band, width: 0, points: {show: false}});
    series.push({label: l.label, stroke: l.color, width: 2.5, dash: l.dash.length ? l.dash : undefined,
      points: {show: false}, value: value((v) => v.toFixed(3))});
    bands.push({series: [2 + 3 * j, 1 + 3 * j], fill: l.band});
  });
  const axis = {stroke: ink(0.8), font, labelFont: font, ticks: {show: false}, grid: {stroke: ink(0.12), width: 1}};
  return {
    title: spec.title, width, height: height(width), series, bands,
    legend: {show: true, live: true}, cursor: {drag: {x: false, y: false}},
    scales: {x: {time: false, distr: spec.log_x ? 3 : 1, range: () => (spec.log_x ? [1, spec.x_max] : [0, spec.x_max])},
      y: {range: (u) => [0, u.sharpTop || 1]}},
    axes: [{...axis, label: spec.x_label, labelSize: spec.font_px + 8, size: spec.font_px + 14,
      splits: () => spec.x_ticks, filter: (u, ticks) => ticks, values: (u, ticks) => ticks.map(num)},
    {...axis, size: 3.6 * spec.font_px, values: (u, ticks) => ticks.map(num)}],
    hooks: {draw: [(u) => marker(u, spec, ink(0.6)(), font)]},
  };
}
const height = (width) => Math.round(Math.max(190, Math.min(300, 0.55 * width)));
// The dashed vertical line at a marked step (e.g. ceil(ln d)), with its label.
function marker(u, spec, color, font) {
  const m = spec.marker;
  if (!m || (spec.log_x && m.x <= 0)) return;
  const dpr = window.devicePixelRatio || 1, x = u.valToPos(m.x, 'x', true), {top, height: h} = u.bbox, g = u.ctx;
  g.save();
  g.strokeStyle = color; g.lineWidth = dpr; g.setLineDash([5 * dpr, 4 * dpr]);
  g.beginPath(); g.moveTo(x, top); g.lineTo(x, top + h); g.stroke();
  g.fillStyle = color; g.textAlign = 'left'; g.textBaseline = 'alphabetic'; g.font = font.replace(/^(\d+)px/, (_, px) => `${px * dpr}px`);
  g.fillText(m.label, x + 4 * dpr, top + (spec.font_px + 2) * dpr);
  g.restore();
}
// A chart's place: its uPlot (made once per place: a rerun draws new places), its SVG / PNG buttons, and what a
// test or a screen reader reads (data-points: the drawn points; aria-label: the chart in words).
function plot(spec, el, show) {
  const cols = columns(spec, show);
  let u = el.__uplot;
  if (!u) {
    el.replaceChildren();
    u = el.__uplot = new uPlot(options(spec, el, el.clientWidth || 600), cols.data, el);
    const dls = document.createElement('div');
    dls.className = 'sharp-dls';
    dls.innerHTML = ['svg', 'png'].map((kind) => `<span class="sharp-dl" data-download="${kind}" role="button" ` +
      `tabindex="0" aria-label="Download this chart as ${kind.toUpperCase()}">${kind.toUpperCase()}</span>`).join('');
    el.appendChild(dls);
    u.sharpResize = new ResizeObserver(() => {
      const w = el.clientWidth;
      if (w && Math.abs(w - u.width) > 1) u.setSize({width: w, height: height(w)});
    });
    u.sharpResize.observe(el);
    // The canvas takes the theme's text colour when it draws: a theme switched from the menu redraws it.
    let ink = getComputedStyle(el).color;
    u.sharpTheme = setInterval(() => {
      const now = getComputedStyle(el).color;
      if (now !== ink) { ink = now; u.redraw(false, true); }
    }, 1000);
    S.plots.push(u);
  }
  u.sharpTop = yTop(spec, cols);
  u.setData(cols.data);
  if (u.cursor.idx === null || u.cursor.idx === undefined) u.setLegend({idx: null});
  const q = new URLSearchParams(CFG.query);
  q.set('log_x', CFG.log_x ? 'true' : 'false'); q.set('chart', spec.name); q.set('upto', show);
  for (const b of el.querySelectorAll('[data-download]')) b.dataset.src = `${CFG.svg}?${q}`;
  el.dataset.points = spec.lines.reduce((n, _, j) => n + cols.data[3 + 3 * j].filter((v) => v !== null).length, 0);
  el.setAttribute('aria-label', describe(spec, cols));
}

const S = (window.__sharpLive && window.__sharpLive.runKey === CFG.run_key) ? window.__sharpLive
  : {runKey: CFG.run_key, rows: {}, n: 0, neurons: {}, neuronsAt: 0, top: null, alerts: {}, done: false, count: 0};
window.__sharpLive = S;
S.gen = (S.gen || 0) + 1;
S.plots = (S.plots || []).filter((u) => u.root.isConnected
  || (u.sharpResize.disconnect(), clearInterval(u.sharpTheme), u.destroy(), false));
const gen = S.gen, mine = () => S.gen === gen && document.querySelector('[data-sharp-live]');
const stats = window.__sharpStats || (window.__sharpStats = {draws: [], firstPointsAt: null, requests: 0});
const shown = {};
function put(part, html) {
  const el = document.querySelector(`[data-part="${part}"]`);
  if (el && shown[part] !== html && el.innerHTML !== html) el.innerHTML = html;
  shown[part] = html;
}
function setText(name, text) {
  const el = document.querySelector(`[data-sharp-live] [data-metric="${name}"]`);
  if (el && el.textContent !== text) el.textContent = text;
}
// The numbers over the charts (web/stream.metrics_html draws them first): the step, each regime's test error
// and distance from init.
function metrics(show) {
  let step = null;
  for (const regime of CFG.regimes) {
    const rows = (S.rows[regime] || []).slice(0, show), r = rows[rows.length - 1];
    if (r) step = Math.max(step ?? r[0], r[0]);
    setText(regime, !r || r[9] ? '—' : r[7].toFixed(3));
    setText(`${regime}-distance`, !r || r[9] ? '—' : r[8].toFixed(2));
  }
  setText('step', step === null ? '—' : `${step} / ${CFG.steps}`);
}
let last = null;
function draw(show, still) {
  if (!mine()) return;
  last = [show, still];
  metrics(show);
  if (window.uPlot) {
    const places = document.querySelectorAll('[data-sharp-live] [data-chart]');
    CFG.charts.forEach((spec, i) => places[i] && plot(spec, places[i], show));
  }
  put('alerts', CFG.regimes.map((r) => S.alerts[r] || '').join(''));
  for (const regime of CFG.regimes) if (S.neurons[regime] && show) put(`neurons-${regime}`, S.neurons[regime]);
  if (S.top !== null) put('top', S.top);
  put('caption', still && show ? CFG.caption : '');
  if (show && window.uPlot) {
    stats.draws.push(performance.now());
    if (stats.draws.length > 5000) stats.draws.splice(0, 1000);
    if (stats.firstPointsAt === null) stats.firstPointsAt = performance.now();
  }
}
library.then(() => { if (last && mine()) draw(...last); }, () => put('top', '<div class="sharp-box sharp-error" ' +
  'role="alert">The charts could not be drawn: their script did not load. Reload the page.</div>'));

async function ask(until, want, neurons) {
  const q = new URLSearchParams(CFG.query), from = S.n;
  q.set('have', from); q.set('viewer', CFG.viewer); q.set('want', want ? 1 : 0);
  q.set('play', CFG.mode === 'play' ? 1 : 0); q.set('neurons', neurons ? 1 : 0);
  if (until !== null && until !== undefined) q.set('until', until);
  const ctl = new AbortController(), timer = setTimeout(() => ctl.abort(), 15000);
  try {
    stats.requests++;
    const res = await fetch(here(`${CFG.api}?${q}`), {signal: ctl.signal, cache: 'no-store'});
    const body = await res.json();
    if (!res.ok) { S.top = `<div class="sharp-box sharp-error" role="alert">${esc(body.error || res.status)}</div>`; return null; }
    // Rows from where this request started only: a rerun's new loop may have added the same rows meanwhile.
    if (S.n === from) {
      for (const [name, rows] of Object.entries(body.rows)) (S.rows[name] || (S.rows[name] = [])).push(...rows);
      S.n = Math.max(S.n, body.upto);
    }
    S.done = body.done; S.count = body.count; S.error = body.error;
    S.top = body.top; S.alerts = body.alerts;
    if (body.neurons) { Object.assign(S.neurons, body.neurons); S.neuronsAt = performance.now(); }
    return body;
  } finally { clearTimeout(timer); }
}
let synced = false;
// The page's script reruns and relabels Play / Step; its rerun draws a new live area (a new CFG, so this loop
// ends). Under load a click can be lost (the page would keep saying Pause over a finished run), so the click is
// repeated every 3 s while this area is still the page's, at most 20 times.
const sync = async () => {
  if (synced) return;
  synced = true;
  for (let i = 0; i < 20 && mine(); i++) {
    const b = document.querySelector('.st-key-live_sync button');
    if (b) b.click();
    await wait(3000);
  }
};
const wait = (ms) => new Promise((r) => setTimeout(r, ms));
async function run() {
  let fails = 0;
  const mode = CFG.mode;
  if (mode === 'still' || mode === 'pause') {
    while (mine() && S.n < (CFG.until ?? Infinity) && !(S.done && S.n >= S.count) && fails < 20) {
      try { if (!(await ask(CFG.until, false, true))) break; } catch (e) { fails++; await wait(1000); }
    }
    if (!mine()) return;
    if (S.n) await ask(CFG.until ?? S.n, false, true).catch(() => null);  // the neuron views at this position
    draw(Math.min(S.n, CFG.until ?? S.n), true);
    return;
  }
  if (mode === 'replay') {
    while (mine() && !(S.done && S.n >= S.count) && fails < 20) {
      try { if (!(await ask(null, false, true))) break; } catch (e) { fails++; await wait(1000); }
    }
    const n = S.n, stride = Math.max(1, Math.ceil(n / (CFG.replay_s * 10)));
    for (let k = Math.min(CFG.shown || 1, n); k < n && mine(); k += stride) { draw(k, false); await wait(100); }
    if (mine()) { draw(n, true); sync(); }
    return;
  }
  // play (and step: the same, up to the step asked for)
  const until = mode === 'step' ? CFG.until : null;
  // The run goes on while this loop asks for it (want), but not before the page has drawn its first points
  // (rows drawn as they come, so S.n > 0): until then the server computes nothing more for it, and this
  // browser, drawing the page, has the CPU.
  while (mine()) {
    const due = performance.now() - S.neuronsAt > CFG.neurons_every_ms;
    let body = null;
    try { body = await ask(until, S.n > 0 && stats.firstPointsAt !== null, due); fails = 0; } catch (e) { fails++; }
    if (!mine()) return;
    const end = S.error || (S.done && S.n >= S.count) || (until !== null && S.n >= until);
    if (body && (Object.values(body.rows).some((r) => r.length) || end || body.top !== shown.top)) {
      if (end && !body.neurons) await ask(until, false, true).catch(() => null);
      draw(until !== null ? Math.min(S.n, until) : S.n, !!end);
    }
    if (end) { sync(); return; }
    await wait(body ? body.next_ms : Math.min(5000, 500 * 2 ** fails));
  }
}
if (S.n && CFG.mode !== 'replay') draw(CFG.mode === 'play' ? S.n : Math.min(S.n, CFG.until ?? S.n), CFG.mode !== 'play');
run();
})();
