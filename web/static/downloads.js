// The SVG / PNG buttons of each chart save that chart. A chart drawn as SVG on the page (ui/figures.py) has its
// buttons inside it and is saved as drawn, with the theme's text colour and font written in and without the
// buttons. A chart drawn on a canvas (the live page's, web/static/live.js) has them beside it, and its SVG comes
// from the server (the button's data-src, relative to the page's address), drawn from the same data. The PNG is
// that SVG at twice its size on the page's background. Sent by web/scripts.py as (this)(cfg); installed once per
// page.
() => {
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
      if (c && c !== 'transparent' && !/rgba\(.*,\s*0\)$/.test(c)) return c;
    }
    return '#ffffff';
  };
  // The chart as a file: `svg` (an element), its size from its viewBox, the colour and font of `styled`'s text.
  const standalone = (svg, styled) => {
    const copy = svg.cloneNode(true), style = getComputedStyle(styled), box = svg.viewBox.baseVal;
    copy.querySelectorAll('.sharp-dl').forEach((e) => e.remove());
    copy.setAttribute('width', box.width); copy.setAttribute('height', box.height);
    copy.setAttribute('style', `color: ${style.color}; font-family: ${style.fontFamily}`);
    return {text: new XMLSerializer().serializeToString(copy), box};
  };
  const go = async (button) => {
    const chart = button.closest('svg') || button.closest('[data-chart]'), kind = button.dataset.download;
    const name = `sharp-${chart.dataset.chart || 'chart'}.${kind}`;
    let svg = button.closest('svg');
    if (button.dataset.src) {
      const res = await fetch(new URL(button.dataset.src, document.baseURI), {cache: 'no-store'});
      if (!res.ok) return;
      svg = new DOMParser().parseFromString(await res.text(), 'image/svg+xml').documentElement;
    }
    const {text, box} = standalone(svg, chart);
    if (kind === 'svg') return save(new Blob([text], {type: 'image/svg+xml'}), name);
    const img = new Image();
    img.onload = () => {
      const canvas = document.createElement('canvas');
      canvas.width = 2 * box.width; canvas.height = 2 * box.height;
      const g = canvas.getContext('2d');
      g.fillStyle = background(chart); g.fillRect(0, 0, canvas.width, canvas.height);
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
  }, true);
}
