// assetc report: the page chooser, the drawn reference graph of a first visit, and details
// for a click in the treemap or the graph. Everything else is in the HTML without script.
'use strict';
(() => {
  const data = JSON.parse(document.getElementById('data').textContent);
  // [logical, served, size, best, coding, kind, entry point, status, references]
  const files = data.files;
  const STATUS = ['unchanged', 'renamed', 'new bytes, same path', 'added'];
  const NS = 'http://www.w3.org/2000/svg';
  const $ = (id) => document.getElementById(id);
  const size = (n) =>
    n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`;
  const svg = (name, attrs, parent) => {
    const e = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (parent) parent.appendChild(e);
    return e;
  };
  const html = (name, text, parent) => {
    const e = document.createElement(name);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  };

  // Breadth first from a page, following every reference but those to other pages.
  function visit(start) {
    const depth = new Map([[start, 0]]);
    const queue = [start];
    for (let q = 0; q < queue.length; q++) {
      const i = queue[q];
      for (const t of files[i][8]) {
        if (!depth.has(t) && files[t][5] !== 0) {
          depth.set(t, depth.get(i) + 1);
          queue.push(t);
        }
      }
    }
    return depth;
  }

  function details(i) {
    const f = files[i];
    const box = $('detail');
    box.replaceChildren();
    html('b', f[0], html('p', undefined, box));
    html('p', `served as ${f[1]}${f[6] ? ' (entry point, revalidated)' : ' (fingerprinted, immutable)'}`, box);
    html('p', `${size(f[2])}; best: ${f[4]} ${size(f[3])}; ${STATUS[f[7]]}`, box);
    if (f[8].length) html('p', `references ${f[8].map((t) => files[t][0]).join(', ')}`, box);
    for (const why of data.why[i] || []) html('p', `because ${why}`, box);
    box.removeAttribute('hidden');
  }

  const COLUMN = 250;
  const ROW = 26;
  const SHOWN_PER_DEPTH = 60;
  function draw(start) {
    const depth = visit(start);
    const columns = [];
    for (const [i, d] of depth) (columns[d] ||= []).push(i);
    for (const c of columns) c.sort((a, b) => files[b][3] - files[a][3] || a - b);
    const graph = $('graph');
    graph.replaceChildren();
    const at = new Map();
    const rows = Math.min(SHOWN_PER_DEPTH, Math.max(...columns.map((c) => c.length)));
    const width = columns.length * COLUMN + 20;
    const height = (rows + 1) * ROW + 30;
    graph.setAttribute('viewBox', `0 0 ${width} ${height}`);
    graph.setAttribute('width', width);
    graph.setAttribute('height', height);
    const edges = svg('g', {}, graph);
    columns.forEach((column, d) => {
      svg('text', { x: 10 + d * COLUMN, y: 14, class: 'depth' }, graph).textContent =
        d === 0 ? 'page' : `depth ${d} (${column.length})`;
      column.slice(0, SHOWN_PER_DEPTH).forEach((i, row) => {
        const x = 10 + d * COLUMN;
        const y = 24 + row * ROW;
        at.set(i, [x, y]);
        const f = files[i];
        const g = svg('g', { class: `node${f[7] ? ' chg' : ''}`, 'data-i': i }, graph);
        svg('rect', { x, y, width: COLUMN - 40, height: ROW - 6, rx: 4, class: `kind k${f[5]}` }, g);
        svg('rect', { x: x + 4, y: y + 3, width: COLUMN - 48, height: ROW - 12, rx: 2, class: 'label' }, g);
        const name = f[0].length > 30 ? `…${f[0].slice(-29)}` : f[0];
        svg('text', { x: x + 8, y: y + 14 }, g).textContent = `${name} · ${size(f[3])}`;
        svg('title', {}, g).textContent = `${f[0]}: ${size(f[2])}, ${f[4]} ${size(f[3])}`;
      });
      if (column.length > SHOWN_PER_DEPTH) {
        svg('text', { x: 14 + d * COLUMN, y: 24 + SHOWN_PER_DEPTH * ROW + 12 }, graph).textContent =
          `and ${column.length - SHOWN_PER_DEPTH} more`;
      }
    });
    for (const [i, [x, y]] of at) {
      for (const t of files[i][8]) {
        const to = at.get(t);
        if (!to || depth.get(t) !== depth.get(i) + 1) continue;
        const [x1, y1, x2, y2] = [x + COLUMN - 40, y + (ROW - 6) / 2, to[0], to[1] + (ROW - 6) / 2];
        svg('path', { class: 'edge', d: `M${x1},${y1} C${x1 + 30},${y1} ${x2 - 30},${y2} ${x2},${y2}` }, edges);
      }
    }
    graph.removeAttribute('hidden');

    // The table and summary below, for the chosen page.
    const order = [...depth].sort((a, b) => a[1] - b[1]);
    const bytes = order.reduce((sum, [i]) => sum + files[i][3], 0);
    const deepest = Math.max(...order.map(([, d]) => d));
    const summary = $('visit-summary');
    summary.replaceChildren('A first visit to ', html('b', files[start][0]),
      ` downloads ${order.length} file${order.length === 1 ? '' : 's'}, ${size(bytes)}, ${deepest} level${deepest === 1 ? '' : 's'} deep.`);
    const body = $('visit-table').tBodies[0];
    body.replaceChildren();
    for (const [i, d] of order) {
      const f = files[i];
      const tr = html('tr', undefined, body);
      html('td', String(d), tr);
      const name = html('td', undefined, tr);
      html('i', undefined, name).className = `sw k${f[5]}`;
      name.append(f[0]);
      html('code', f[1], html('td', undefined, tr));
      html('td', size(f[3]), tr);
      html('td', f[4], tr);
    }
  }

  // `hidden` is an attribute on SVG elements, not a property.
  for (const e of document.querySelectorAll('.js-only')) e.removeAttribute('hidden');
  const choose = $('page');
  if (choose) {
    choose.addEventListener('change', () => draw(Number(choose.value)));
    draw(Number(choose.value));
  }
  const pick = (event) => {
    const target = event.target.closest('[data-i]');
    if (target) details(Number(target.getAttribute('data-i')));
  };
  $('treemap').addEventListener('click', pick);
  $('graph')?.addEventListener('click', pick);
  document.documentElement.dataset.ready = 'true';
})();
