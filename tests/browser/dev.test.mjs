// `assetc dev` in a real browser (issue 10): a page open in Chromium picks up a CSS change
// by itself (the stylesheet swapped in place, no reload), reloads by itself after an HTML
// change, and shows a build error as an overlay until the next good build. Screenshots
// before and after go to target/browser-artifacts/.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { after, before, it } from 'node:test';

import { chromium } from 'playwright-core';

import { assetcBin, within } from './support/server.mjs';

const REPO = path.resolve(import.meta.dirname, '..', '..');
const ARTIFACTS = path.join(REPO, 'target', 'browser-artifacts');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const WAIT = 20_000;

const state = { dir: null, child: null, origin: null, stderr: [], context: null, page: null };

function write(rel, text) {
  const file = path.join(state.dir, 'assets', rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

const page = (title, extra = '') =>
  `<!doctype html><html><head><meta charset="utf-8"><title>dev</title>` +
  `<link rel="stylesheet" href="css/site.css"></head>` +
  `<body><h1 id="title">${title}</h1>${extra}</body></html>\n`;

before(async () => {
  state.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'assetc-dev-browser-'));
  write('index.html', page('Before'));
  write('css/site.css', 'h1 { color: rgb(200, 0, 0); font-size: 64px; }\n');
  const env = { ...process.env, NO_COLOR: '1' };
  for (const key of Object.keys(env)) if (key.startsWith('ASSETC_') || key === 'PORT') delete env[key];
  state.child = spawn(
    assetcBin(),
    ['dev', '--input', 'assets', '--bind', '127.0.0.1:0', '--strict', '--output', path.join(state.dir, 'dev-build')],
    { cwd: state.dir, env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const addr = await within(
    30_000,
    'assetc dev printed no `listening on` line',
    new Promise((resolve, reject) => {
      state.child.once('exit', (code) => reject(new Error(`assetc dev exited (${code}): ${state.stderr.join('\n')}`)));
      readline.createInterface({ input: state.child.stderr }).on('line', (line) => {
        state.stderr.push(line);
        const m = line.match(/^listening on http:\/\/(\S+)$/);
        if (m) resolve(m[1]);
      });
    }),
  );
  state.origin = `http://${addr}`;
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at \`${CHROMIUM}\` (\`just test\` installs it)`);
  state.context = await chromium.launchPersistentContext(path.join(state.dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 640, height: 240 },
    timeout: WAIT,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  state.context.setDefaultTimeout(WAIT);
  state.page = state.context.pages()[0] ?? (await state.context.newPage());
  fs.mkdirSync(ARTIFACTS, { recursive: true });
});

after(async () => {
  await state.context?.close().catch(() => {});
  state.child?.kill('SIGKILL');
  if (state.dir) fs.rmSync(state.dir, { recursive: true, force: true });
});

const colour = () => state.page.evaluate(() => getComputedStyle(document.getElementById('title')).color);

it('a CSS change restyles the open page in place, an HTML change reloads it, an error shows until fixed', async () => {
  const p = state.page;
  await p.goto(`${state.origin}/`, { waitUntil: 'load' });
  // The live-reload stream is open before anything changes.
  await p.waitForFunction(() => performance.getEntriesByType('resource').some((e) => e.name.includes('/__assetc/live.js')));
  assert.equal(await colour(), 'rgb(200, 0, 0)');
  await p.screenshot({ path: path.join(ARTIFACTS, 'dev-before-css-change.png') });
  await p.evaluate(() => { window.__sameDocument = true; });
  await new Promise((r) => setTimeout(r, 300)); // let the EventSource connect

  write('css/site.css', 'h1 { color: rgb(0, 0, 200); font-size: 64px; }\n');
  await p.waitForFunction(
    () => getComputedStyle(document.getElementById('title')).color === 'rgb(0, 0, 200)',
    null,
    { timeout: WAIT },
  ).catch((e) => { throw new Error(`the page never showed the new style: ${e.message}\n${state.stderr.join('\n')}`); });
  assert.equal(await p.evaluate(() => window.__sameDocument === true), true, 'a CSS-only change must not reload the page');
  const href = await p.evaluate(() => document.querySelector('link[rel=stylesheet]').getAttribute('href'));
  assert.match(href, /^css\/site\.[A-Za-z0-9_-]{12}\.css$/, 'the new fingerprinted file, in the reference\'s own (relative) form');
  await p.screenshot({ path: path.join(ARTIFACTS, 'dev-after-css-change.png') });

  write('index.html', page('After'));
  await p.waitForFunction(() => document.getElementById('title')?.textContent === 'After', null, { timeout: WAIT });
  assert.equal(await p.evaluate(() => window.__sameDocument === true), false, 'an HTML change reloads the page');
  assert.equal(await colour(), 'rgb(0, 0, 200)');

  await new Promise((r) => setTimeout(r, 300));
  write('index.html', page('Broken', '<img src="img/missing.png">'));
  await p.waitForSelector('#assetc-error-overlay', { timeout: WAIT });
  const overlay = await p.textContent('#assetc-error-overlay');
  assert.match(overlay, /missing\.png/, 'the overlay names the broken reference');
  assert.equal(await p.textContent('#title'), 'After', 'the last good build is still what the page shows');
  await p.screenshot({ path: path.join(ARTIFACTS, 'dev-error-overlay.png') });

  write('index.html', page('Fixed'));
  await p.waitForFunction(
    () => document.getElementById('title')?.textContent === 'Fixed' && !document.getElementById('assetc-error-overlay'),
    null,
    { timeout: WAIT },
  );
});
