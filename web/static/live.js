// The live page's browser side, served by web/stream.py at /api/live.js and loaded by the live area's st.html
// after its inline script set window.__sharpLiveCfg (a file, not inline text: Streamlit's HTML sanitizer drops an
// inline script whose text holds markup, and this one writes SVG).
// It asks the server's /api/live for the rows it does not have yet, keeps them across the page's reruns (per
// run), and draws the curve charts from them the way ui/figures.curves_svg draws them in Python (same
// elements, same text alternative, same download buttons). The metrics come from the rows too; the messages
// and the neuron views come drawn from the server. When the view has reached a state the page's buttons must
// show (the run finished, a step arrived, a replay ended), it presses the page's hidden "live_sync" button so
// the page's script reruns once and relabels them.
(() => {
const CFG = window.__sharpLiveCfg;
if (!CFG) return;
const W = CFG.widths.width, LEFT = CFG.widths.left, RIGHT = W - CFG.widths.right;
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
  .replace(/"/g, '&quot;').replace(/'/g, '&#x27;');
const f1 = (v) => v.toFixed(1), f0 = (v) => v.toFixed(0);
const fin = (v) => typeof v === 'number' && Number.isFinite(v);
const num = (v) => Math.abs(v) < 1e5 ? String(parseFloat(v.toPrecision(10))) : v.toExponential(0);
const g3 = (v) => {  // Python's format(v, '.3g')
  if (v === 0) return '0';
  const e = Math.floor(Math.log10(Math.abs(v)));
  if (e < -4 || e >= 3) return v.toExponential(2).replace(/\.?0+e/, 'e').replace(/e([+-])(\d)$/, 'e$10$2');
  return String(parseFloat(v.toPrecision(3)));
};
const text = (x, y, t, size = 13, anchor = 'start', extra = '') =>
  `<text x="${f1(x)}" y="${f1(y)}" font-size="${size}" text-anchor="${anchor}" fill="currentColor" ${extra}>${esc(t)}</text>`;

function niceTicks(lo, hi, most = 5) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / most, base = 10 ** Math.floor(Math.log10(raw));
  const steps = [10, 5, 2, 1, 0.5, 0.2, 0.1].map((f) => f * base);
  let start = 0;
  for (let i = steps.length - 1; i >= 0; i--) if (steps[i] >= raw) { start = i; break; }
  let ticks = [];
  for (const step of steps.slice(start)) {
    const first = Math.ceil(lo / step - 1e-9), last = Math.floor(hi / step + 1e-9);
    ticks = [];
    for (let i = first; i <= last; i++) ticks.push(Math.round(i * step * 1e12) / 1e12);
    if (ticks.length >= 2) break;
  }
  return ticks;
}
function ticks125(lo, hi) {
  const out = [];
  if (!(lo > 0 && lo <= hi)) return out;
  for (let e = Math.floor(Math.log10(lo)) - 1; e < Math.ceil(Math.log10(hi)) + 1; e++)
    for (const f of [1, 2, 5]) { const t = f * 10 ** e; if (lo <= t && t <= hi) out.push(t); }
  return out;
}
function logTicks(hi) {
  const decades = [];
  for (let e = 0; e <= Math.floor(Math.log10(Math.max(hi, 1))); e++) decades.push(10 ** e);
  return decades.length > 2 ? decades : ticks125(1, hi);
}
function path(xs, ys) {
  let out = '', pen = 'M';
  for (let i = 0; i < xs.length; i++) {
    if (fin(xs[i]) && fin(ys[i])) { out += `${pen}${f1(xs[i])} ${f1(ys[i])}`; pen = 'L'; } else pen = 'M';
  }
  return out;
}
function band(xs, lo, hi) {
  let out = '', i = 0;
  const ok = xs.map((x, k) => fin(x) && fin(lo[k]) && fin(hi[k]));
  while (i < ok.length) {
    if (!ok[i]) { i++; continue; }
    let j = i;
    while (j < ok.length && ok[j]) j++;
    out += path(xs.slice(i, j).concat(xs.slice(i, j).reverse()), hi.slice(i, j).concat(lo.slice(i, j).reverse())) + 'Z';
    i = j;
  }
  return out;
}
const rgba = (c, a) => `rgba(${parseInt(c.slice(1, 3), 16)},${parseInt(c.slice(3, 5), 16)},${parseInt(c.slice(5, 7), 16)},${a})`;

// A run's rows up to `show` as a Curve (sharp/experiments/curves.py): step, mean, lo, hi of one metric
// (columns 1-3 or 4-6).
function curve(name, rows, at) {
  const c = {name, step: [], mean: [], lo: [], hi: []};
  for (const r of rows) {
    c.step.push(r[0]);
    c.mean.push(r[at] ?? NaN); c.lo.push(r[at + 1] ?? NaN); c.hi.push(r[at + 2] ?? NaN);
  }
  return c;
}
function sharedRange(curves, atLeast) {
  const tops = curves.map((c) => c.hi.filter(fin)).filter((h) => h.length).map((h) => Math.max(...h));
  return [0, tops.length || atLeast ? Math.max(atLeast, ...tops) * 1.08 : 1.0];
}
function describe(panels) {
  return panels.map((p) => {
    const parts = p.curves.map((c) => {
      const label = CFG.labels[c.name] || c.name;
      let j = -1;
      for (let i = 0; i < c.mean.length; i++) if (fin(c.mean[i])) j = i;
      if (j < 0) return `${label} no value yet`;
      const b = c.hi[j] > c.lo[j] ? ` (seeds ${g3(c.lo[j])} to ${g3(c.hi[j])})` : '';
      return `${label} ${g3(c.mean[j])} at step ${f0(c.step[j])}${b}`;
    });
    return `${p.title.split('  ')[0]}: ${parts.join('; ')}.`;
  }).join(' ');
}
function svgRoot(body, height, chart, points, label, desc) {
  const alt = desc ? `${label}. ${desc}` : label;
  const buttons = [[52, 'svg'], [24, 'png']].map(([dx, kind]) =>
    `<text x="${W - CFG.widths.right - dx}" y="${f0(height - 4)}" font-size="11" fill="currentColor" ` +
    `fill-opacity="0.6" class="sharp-dl" data-download="${kind}" role="button" tabindex="0" ` +
    `aria-label="Download this chart as ${kind.toUpperCase()}" style="cursor:pointer">${kind.toUpperCase()}</text>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${f0(height)}" width="100%" role="img" ` +
    `aria-label="${esc(alt)}" data-chart="${esc(chart)}" data-points="${points}" ` +
    `style="display:block;height:auto;overflow:visible">\n<desc>${esc(alt)}</desc>${body.join('')}${buttons}</svg>`;
}
// ui/figures.curves_svg, line for line.
function curvesSvg(panels, xMax, logX, chart, hover, plotHeight = 150) {
  const hiX = logX ? Math.log10(Math.max(xMax, 2)) : Math.max(xMax, 1);
  const sx = (s) => LEFT + (RIGHT - LEFT) * (logX ? (s > 0 ? Math.log10(s) : NaN) : s) / hiX;
  const names = [...new Set(panels.flatMap((p) => p.curves.map((c) => c.name)))];
  const body = [];
  let top = names.length > 1 ? 22 : 0, points = 0;
  if (names.length > 1) {
    let x = RIGHT;
    for (const name of [...names].reverse()) {
      const label = CFG.labels[name] || name;
      x -= 30 + 6.5 * label.length;
      const dash = name === 'linearized' ? ' stroke-dasharray="2 3"' : '';
      body.push(`<path d="M${f0(x)} 9H${f0(x + 22)}" stroke="${CFG.colors[name] || '#888'}" stroke-width="2.5"${dash}/>` +
        text(x + 26, 13, label));
    }
  }
  panels.forEach((p, i) => {
    const y0 = top + 22, y1 = y0 + plotHeight, [loY, hiY] = p.range;
    const sy = (v) => y1 - (y1 - y0) * (Math.min(Math.max(v, loY), hiY) - loY) / ((hiY - loY) || 1);
    body.push(text(4, top + 15, p.title, 15, 'start', 'font-weight="600"'));
    for (const v of niceTicks(loY, hiY, 4)) {
      const y = sy(v);
      body.push(`<path d="M${LEFT} ${f1(y)}H${RIGHT}" stroke="currentColor" stroke-opacity="0.12"/>`);
      body.push(text(LEFT - 6, y + 4, num(v), 13, 'end', 'fill-opacity="0.7"'));
    }
    for (const v of (logX ? logTicks(xMax) : niceTicks(0, Math.max(xMax, 1), 6))) {
      const x = sx(v);
      body.push(`<path d="M${f1(x)} ${y0}V${y1}" stroke="currentColor" stroke-opacity="0.07"/>`);
      if (i === panels.length - 1) body.push(text(x, y1 + 16, num(v), 13, 'middle', 'fill-opacity="0.7"'));
    }
    body.push(`<path d="M${LEFT} ${y1}H${RIGHT}" stroke="currentColor" stroke-opacity="0.45"/>`);
    for (const c of p.curves) {
      const color = CFG.colors[c.name] || '#888888', xs = c.step.map(sx);
      body.push(`<path d="${band(xs, c.lo.map(sy), c.hi.map(sy))}" fill="${rgba(color, 0.18)}"/>`);
      const dash = c.name === 'linearized' ? ' stroke-dasharray="2 4"' : '';
      body.push(`<path d="${path(xs, c.mean.map((v) => fin(v) ? sy(v) : NaN))}" fill="none" stroke="${color}" ` +
        `stroke-width="2.5" stroke-linejoin="round"${dash}/>`);
      points += xs.filter((x, k) => fin(x) && fin(c.mean[k])).length;
    }
    if (p.marker != null && (!logX || p.marker > 0)) {
      const x = sx(p.marker);
      body.push(`<path d="M${f1(x)} ${y0}V${y1}" stroke="currentColor" stroke-opacity="0.6" stroke-dasharray="5 4"/>` +
        text(x + 4, y0 + 13, p.markerLabel));
    }
    top = y1 + 12;
  });
  top += 36;
  body.push(text((LEFT + RIGHT) / 2, top - 4, 'SGD step' + (logX ? ' (log scale)' : ''), 13, 'middle'));
  if (hover) body.push(hoverStrips(panels, sx, 0, top - 36));
  const label = panels.map((p) => p.title).join(', ') + ' against SGD step for ' +
    names.map((n) => CFG.labels[n] || n).join(', ');
  return svgRoot(body, top, chart, points, label, describe(panels));
}
function hoverStrips(panels, sx, y0, y1) {
  const steps = [...new Set(panels.flatMap((p) => p.curves.flatMap((c) => c.step)))].sort((a, b) => a - b);
  const xs = steps.map(sx), out = [];
  steps.forEach((step, j) => {
    if (!fin(xs[j])) return;
    const left = j && fin(xs[j - 1]) ? (xs[j] + xs[j - 1]) / 2 : xs[j] - 2;
    const width = (j + 1 < xs.length ? (xs[j + 1] + xs[j]) / 2 : xs[j] + 2) - left;
    const lines = [`step ${f0(step)}`];
    for (const p of panels) for (const c of p.curves) {
      const k = c.step.indexOf(step);
      if (k >= 0 && fin(c.mean[k])) lines.push(`${CFG.labels[c.name] || c.name}, ${p.title.split('  ')[0].toLowerCase()}: ` +
        `${g3(c.mean[k])} (seeds ${g3(c.lo[k])} to ${g3(c.hi[k])})`);
    }
    out.push(`<rect x="${f1(left)}" y="${f0(y0)}" width="${f1(Math.max(width, 1))}" height="${f0(y1 - y0)}" ` +
      `fill="transparent"><title>${esc(lines.join('\n'))}</title></rect>`);
  });
  return out.join('');
}
// ui/live.column_panels: per regime, its test-error and distance panels, y-ranges shared by both columns.
function columnPanels(show) {
  const err = {}, dist = {}, last = {};
  for (const [name, rows] of Object.entries(S.rows)) {
    const r = rows.slice(0, show);
    if (!r.length) continue;
    err[name] = curve(name, r, 1); dist[name] = curve(name, r, 4); last[name] = r[r.length - 1];
  }
  let sane = Object.keys(err).filter((n) => !last[n][9]);
  if (!sane.length) sane = Object.keys(err);
  const errRange = sharedRange(sane.map((n) => err[n]), 0.55), distRange = sharedRange(sane.map((n) => dist[n]), 0.5);
  const out = {};
  for (const [regime, names] of Object.entries(CFG.names)) {
    const ns = names.filter((n) => n in err);
    out[regime] = [
      {curves: ns.map((n) => err[n]), title: 'Test error', range: errRange,
        marker: regime === 'feature' ? CFG.marker : null, markerLabel: `⌈ln d⌉ = ${CFG.marker}`},
      {curves: ns.map((n) => dist[n]), title: 'Distance from init  ‖W − W₀‖ / ‖W₀‖', range: distRange, marker: null}];
  }
  return out;
}
function metrics(regime, show) {
  const rows = (S.rows[regime] || []).slice(0, show), r = rows[rows.length - 1];
  const vals = !r ? ['—', '—', '—'] : [`${r[0]} / ${CFG.steps}`, r[9] ? '—' : r[7].toFixed(3), r[9] ? '—' : r[8].toFixed(2)];
  return ['step', 'test error', 'distance from init'].map((label, i) => `<div class="sharp-metric"><div ` +
    `class="sharp-metric-label">${label}</div><div class="sharp-metric-value" data-metric="${label}">${vals[i]}</div></div>`).join('');
}

const S = (window.__sharpLive && window.__sharpLive.runKey === CFG.run_key) ? window.__sharpLive
  : {runKey: CFG.run_key, rows: {}, n: 0, neurons: {}, neuronsAt: 0, top: null, alerts: {}, done: false, count: 0};
window.__sharpLive = S;
S.gen = (S.gen || 0) + 1;
const gen = S.gen, mine = () => S.gen === gen && document.querySelector('[data-sharp-live]');
const stats = window.__sharpStats || (window.__sharpStats = {draws: [], firstPointsAt: null, requests: 0});
const shown = {};
function put(part, html) {
  const area = document.querySelector('[data-sharp-live]');
  const el = area && area.querySelector(`[data-part="${part}"]`);
  if (el && shown[part] !== html && el.innerHTML !== html) el.innerHTML = html;
  shown[part] = html;
}
function draw(show, hover) {
  if (!mine()) return;
  const panels = columnPanels(show);
  for (const regime of Object.keys(CFG.names)) {
    put(`metrics-${regime}`, metrics(regime, show));
    if (S.alerts[regime] !== undefined) put(`alerts-${regime}`, S.alerts[regime]);
    const has = panels[regime][0].curves.length;
    put(`curves-${regime}`, has ? curvesSvg(panels[regime], CFG.steps, CFG.log_x, `curves-${regime}`, hover) : '');
    if (S.neurons[regime] && show) put(`neurons-${regime}`, S.neurons[regime]);
  }
  if (S.top !== null) put('top', S.top);
  put('caption', hover && show ? CFG.caption : '');
  if (show) {
    stats.draws.push(performance.now());
    if (stats.draws.length > 5000) stats.draws.splice(0, 1000);
    if (stats.firstPointsAt === null) stats.firstPointsAt = performance.now();
  }
}
async function ask(until, want, neurons) {
  const q = new URLSearchParams(CFG.query), from = S.n;
  q.set('have', from); q.set('viewer', CFG.viewer); q.set('want', want ? 1 : 0);
  q.set('play', CFG.mode === 'play' ? 1 : 0); q.set('neurons', neurons ? 1 : 0);
  if (until !== null && until !== undefined) q.set('until', until);
  const ctl = new AbortController(), timer = setTimeout(() => ctl.abort(), 15000);
  try {
    stats.requests++;
    const res = await fetch(`${CFG.api}?${q}`, {signal: ctl.signal, cache: 'no-store'});
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
    try { body = await ask(until, S.n > 0, due); fails = 0; } catch (e) { fails++; }
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
