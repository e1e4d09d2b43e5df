// The SVG / PNG buttons drawn inside each chart (ui/figures.py) save that chart: the SVG as drawn, with the
// theme's text colour and font written in and without the buttons; the PNG is that SVG at twice its size on
// the page's background. Sent by web/scripts.py as (this)(cfg); installed once per page.
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
  }, true);
}
