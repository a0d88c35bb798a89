// `assetc report` in a real browser (issue 22): the report of the browser test's demo-like
// site, rebuilt after a change, opened from disk in Debian's Chromium, with and without
// JavaScript: no console errors, no request but the file itself (every other one is
// intercepted, recorded and aborted), the treemap and the reference graph drawn, the page
// chooser and the details working. Then a 10,000-file build: the report's size, the time
// `assetc report` takes, and the time to load, render and redraw it, measured and printed
// (not asserted) and written to target/browser-artifacts/report-measurements.json with
// the screenshots.
//
// Run: `just test-browser`; by hand, after `cargo build`: `node --test tests/browser/report.test.mjs`.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';

import { chromium } from 'playwright-core';

import { assetcBin, build } from './support/server.mjs';
import { changeTheme, png, writeSite } from './support/site.mjs';

const REPO = path.resolve(import.meta.dirname, '..', '..');
const ARTIFACTS = path.join(REPO, 'target', 'browser-artifacts');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ACTION_TIMEOUT = 60_000;

const state = { dir: null, browser: null };

before(async () => {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at \`${CHROMIUM}\`: \`apt-get install chromium\` (\`just test\` installs it)`);
  }
  state.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'assetc-report-browser-'));
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  state.browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: ACTION_TIMEOUT,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await state.browser?.close().catch(() => {});
  if (state.dir) fs.rmSync(state.dir, { recursive: true, force: true });
});

/** `assetc report` in `cwd`; returns the report's path and how long the command took. */
function report(cwd, args = []) {
  const started = performance.now();
  const run = spawnSync(assetcBin(), ['report', '--root', 'build', '--output', 'report.html', ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1' },
    encoding: 'utf8',
    timeout: 300_000,
  });
  const ms = performance.now() - started;
  assert.equal(run.status, 0, `assetc report failed:\n${run.stderr}`);
  return { file: path.join(cwd, 'report.html'), ms, stderr: run.stderr };
}

/**
 * Opens `file` in a fresh context; every request but the file's own is recorded and
 * aborted, and console errors and page errors are collected.
 */
async function open(file, { javaScriptEnabled = true, viewport = { width: 1280, height: 900 } } = {}) {
  const context = await state.browser.newContext({ javaScriptEnabled, viewport });
  context.setDefaultTimeout(ACTION_TIMEOUT);
  const url = pathToFileURL(file).href;
  const requests = [];
  const errors = [];
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (u === url) return route.continue();
    requests.push(u);
    return route.abort();
  });
  const page = await context.newPage();
  page.on('request', (r) => {
    if (r.url() !== url) requests.push(r.url());
  });
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  const started = performance.now();
  await page.goto(url, { waitUntil: 'load' });
  const loadMs = performance.now() - started;
  return { context, page, url, requests, errors, loadMs };
}

/** Waits for two animation frames: what was drawn is painted. */
const painted = (page) =>
  page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));

describe('the report of a demo-like site', () => {
  let file;
  let manifest;
  before(() => {
    const site = path.join(state.dir, 'demo');
    writeSite(path.join(site, 'assets'));
    build(site, 'assets', 'build');
    changeTheme(path.join(site, 'assets'));
    manifest = build(site, 'assets', 'build');
    file = report(site).file;
  });

  it('draws the treemap and the graph, asks the network for nothing, and logs no error', async () => {
    const { context, page, requests, errors } = await open(file);
    try {
      await page.waitForFunction(() => document.documentElement.dataset.ready === 'true');
      const entries = Object.entries(manifest.entries);
      const drawn = await page.$$eval('#treemap rect[data-i]', (rects) => rects.map((r) => {
        const box = r.getBBox();
        return { title: r.querySelector('title').textContent, w: box.width, h: box.height };
      }));
      assert.deepEqual(
        drawn.map((d) => d.title.split(' · ')[0]).sort(),
        entries.filter(([, e]) => e.size > 0).map(([k]) => k).sort(),
        'every file has its rectangle in the treemap',
      );
      assert.ok(drawn.every((d) => d.w > 0 && d.h > 0), 'every rectangle has an area');
      const theme = drawn.find((d) => d.title.startsWith('css/theme.css · '));
      const br = manifest.entries['css/theme.css'].variants.br;
      assert.ok(theme.title.includes(' · br '), `the title gives the best coding: ${theme.title}`);
      assert.ok(br, 'the theme has a br variant');

      // The graph of index.html: the page, its two stylesheets and script and image, the font.
      const nodes = await page.$$eval('#graph .node', (gs) => gs.map((g) => g.querySelector('title').textContent.split(':')[0]));
      assert.deepEqual(nodes.sort(), ['css/site.css', 'css/theme.css', 'fonts/open-sans.woff2', 'img/logo.png', 'index.html', 'js/app.js']);
      assert.equal(await page.$$eval('#graph .edge', (e) => e.length), 5, 'one edge per reference one level down');
      assert.match(await page.textContent('#visit-summary'), /^A first visit to index\.html downloads 6 files, .*, 2 levels deep\.$/);
      await page.screenshot({ path: path.join(ARTIFACTS, 'report-demo.png'), fullPage: true });
      await page.locator('#graph').screenshot({ path: path.join(ARTIFACTS, 'report-demo-graph.png') });
      await page.locator('#treemap').screenshot({ path: path.join(ARTIFACTS, 'report-demo-treemap.png') });

      // Another page, and a click in the treemap.
      await page.selectOption('#page', { label: 'about.html' });
      assert.match(await page.textContent('#visit-summary'), /^A first visit to about\.html downloads 6 files/);
      await page.click('#treemap rect.k1.chg');
      const detail = await page.textContent('#detail');
      assert.ok(detail.startsWith('css/'), detail);
      assert.ok(detail.includes('renamed'), detail);

      // What changed: the theme, its own bytes, and the pages revalidated because of it.
      const changed = await page.textContent('#changed');
      assert.ok(changed.includes('css/theme.css: its own bytes changed'), changed);
      assert.ok(changed.includes('1 file renamed'), changed);

      assert.deepEqual(requests, [], 'no request leaves the file');
      assert.deepEqual(errors, [], 'no console errors');
    } finally {
      await context.close();
    }
  });

  it('is readable without JavaScript', async () => {
    const { context, page, requests, errors } = await open(file, { javaScriptEnabled: false });
    try {
      assert.ok((await page.$$('#treemap rect[data-i]')).length > 0, 'the treemap is drawn in the HTML');
      assert.equal(await page.isVisible('#graph'), false, 'the drawn graph needs the script');
      assert.match(await page.textContent('#visit-summary'), /^A first visit to index\.html downloads 6 files/);
      assert.equal(await page.$$eval('#visit-table tbody tr', (r) => r.length), 6);
      assert.ok((await page.textContent('#totals')).includes('CSS'));
      await page.screenshot({ path: path.join(ARTIFACTS, 'report-demo-no-js.png'), fullPage: true });
      assert.deepEqual(requests, []);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  it('fits a phone', async () => {
    const { context, page, errors } = await open(file, { viewport: { width: 390, height: 844 } });
    try {
      await page.waitForFunction(() => document.documentElement.dataset.ready === 'true');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `the page is ${overflow}px wider than a phone`);
      await page.screenshot({ path: path.join(ARTIFACTS, 'report-demo-phone.png') });
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});

/** Writes a 10,000-file site into `dir`: pages, stylesheets, modules, fonts and images. */
function writeLargeSite(dir, fontSeed) {
  const write = (rel, contents) => {
    const f = path.join(dir, rel);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, contents);
  };
  const noise = (len, seed) => {
    const b = Buffer.alloc(len);
    let x = (seed * 2654435761) >>> 0 || 1;
    for (let i = 0; i < len; i++) {
      x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
      b[i] = x & 0xff;
    }
    return b;
  };
  const [PAGES, CSS, JS, FONTS] = [200, 500, 1000, 10];
  const IMAGES = 10_000 - PAGES - CSS - JS - FONTS;
  const image = (i) => `img/d${i % 80}/i${i}.png`;
  for (let i = 0; i < FONTS; i++) write(`fonts/f${i}.woff2`, noise(20_000 + i * 1000, i === 0 ? fontSeed : i + 100));
  for (let i = 0; i < IMAGES; i++) write(image(i), i % 50 === 0 ? png(64) : noise(200 + ((i * 7919) % 6000), i + 1000));
  for (let i = 0; i < CSS; i++) {
    const imgs = [0, 1, 2, 3].map((k) => `.i${k} { background: url(../${image((i * 4 + k) % IMAGES)}) }`).join('\n');
    write(`css/c${i}.css`, `@font-face { font-family: f; src: url(../fonts/f${i % FONTS}.woff2) }\n${imgs}\n${'.pad { margin: 0 }\n'.repeat(i % 40)}`);
  }
  for (let i = 0; i < JS; i++) {
    // A tree of modules, ten levels deep: each imports two.
    const deps = [2 * i + 1, 2 * i + 2].filter((d) => d < JS).map((d) => `import './m${d}.js';`).join('\n');
    write(`js/m${i}.js`, `${deps}\nexport const m${i} = ${JSON.stringify('x'.repeat(i % 300))};\n`);
  }
  for (let i = 0; i < PAGES; i++) {
    const links = [0, 1, 2].map((k) => `<link rel=stylesheet href="../css/c${(i * 3 + k) % CSS}.css">`).join('');
    const imgs = [0, 1, 2, 3, 4].map((k) => `<img src="../${image((i * 5 + k) % IMAGES)}" alt="">`).join('');
    write(`pages/p${i}.html`, `<!doctype html><title>p${i}</title>${links}<script type=module src="../js/m${(i * 5) % (JS - 10)}.js"></script>${imgs}<a href="p${(i + 1) % PAGES}.html">next</a>\n`);
  }
}

describe('the report of a 10,000-file build', () => {
  const measured = {};
  let file;
  before(() => {
    const site = path.join(state.dir, 'large');
    writeLargeSite(path.join(site, 'assets'), 1);
    let started = performance.now();
    build(site, 'assets', 'build');
    measured.firstBuildMs = Math.round(performance.now() - started);
    // A new font renames the stylesheets that use it; their pages get new bytes.
    writeLargeSite(path.join(site, 'assets'), 2);
    started = performance.now();
    build(site, 'assets', 'build');
    measured.secondBuildMs = Math.round(performance.now() - started);
    const r = report(site);
    file = r.file;
    measured.reportCommandMs = Math.round(r.ms);
    measured.reportBytes = fs.statSync(file).size;
  });

  it('stays responsive: its size and render times, measured', async () => {
    const { context, page, requests, errors, loadMs } = await open(file);
    try {
      await page.waitForFunction(() => document.documentElement.dataset.ready === 'true');
      await painted(page);
      measured.loadMs = Math.round(loadMs);
      const timing = await page.evaluate(() => {
        const nav = performance.getEntriesByType('navigation')[0];
        const paint = performance.getEntriesByType('paint').find((p) => p.name === 'first-contentful-paint');
        return { domContentLoadedMs: Math.round(nav.domContentLoadedEventEnd), loadEventMs: Math.round(nav.loadEventEnd), firstContentfulPaintMs: paint ? Math.round(paint.startTime) : null };
      });
      Object.assign(measured, timing);
      measured.treemapRects = await page.$$eval('#treemap rect[data-i]', (r) => r.length);
      assert.ok(measured.treemapRects > 5_000, `the treemap draws most files: ${measured.treemapRects}`);
      // Redraw for another page, and a click: both timed in the page, to the next paint.
      measured.redrawMs = await page.evaluate(async () => {
        const select = document.getElementById('page');
        const started = performance.now();
        select.value = select.options[select.options.length - 1].value;
        select.dispatchEvent(new Event('change'));
        await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r())));
        return Math.round(performance.now() - started);
      });
      measured.graphNodes = await page.$$eval('#graph .node', (n) => n.length);
      assert.ok(measured.graphNodes > 3, `the graph is drawn: ${measured.graphNodes} nodes`);
      measured.clickMs = await page.evaluate(async () => {
        const rect = document.querySelector('#treemap rect[data-i]');
        const started = performance.now();
        rect.dispatchEvent(new MouseEvent('click', { bubbles: true }));
        await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r())));
        return Math.round(performance.now() - started);
      });
      assert.equal(await page.isVisible('#detail'), true);
      const changed = await page.textContent('#changed');
      assert.ok(changed.includes('fonts/f0.woff2: its own bytes changed'), changed.slice(0, 500));
      await page.screenshot({ path: path.join(ARTIFACTS, 'report-10000.png') });
      await page.locator('#treemap').screenshot({ path: path.join(ARTIFACTS, 'report-10000-treemap.png') });
      await page.locator('#graph').screenshot({ path: path.join(ARTIFACTS, 'report-10000-graph.png') });
      assert.deepEqual(requests, []);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
      fs.writeFileSync(path.join(ARTIFACTS, 'report-measurements.json'), `${JSON.stringify(measured, null, 2)}\n`);
      console.log(`report of 10,000 files: ${JSON.stringify(measured)}`);
    }
  });
});
