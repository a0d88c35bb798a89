// The Python side in a real browser (issue 20): the Flask dashboard of examples/ on gunicorn,
// its assets from the real `assetc serve` (another origin), in Debian's Chromium. The first
// visit loads every asset (module scripts and stylesheets pass SRI over CORS); the second
// visit and the next browser session make no request for any asset, as the server's access
// log confirms; after a rebuild of one CSS file, only that file is fetched.
//
// Run: `just test-python` (or `just test`), which builds the wheel, installs it into the
// virtualenv target/python/venv and sets ASSETC_PYTHON_VENV and ASSETC_BIN (the wheel's binary).

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { chromium } from 'playwright-core';

import { describe as describeRequest, fromCache, NetworkLog } from './support/network.mjs';
import { assetcBin, Server } from './support/server.mjs';

const REPO = path.resolve(import.meta.dirname, '..', '..');
const EXAMPLE = path.join(REPO, 'examples', 'flask-dashboard');
const ARTIFACTS = path.join(REPO, 'target', 'browser-artifacts');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ACTION_TIMEOUT = 20_000;
/** What the page loads from the asset origin, by logical path. */
const ASSETS = ['css/dashboard.css', 'css/theme.css', 'js/dashboard.js', 'js/format.js', 'js/plural.js', 'img/logo.svg'];
const IMMUTABLE = 'public, max-age=31536000, immutable';

const state = { dir: null, server: null, app: null, appLog: [], context: null, page: null, net: null, manifest: null, logFrom: 0, errors: [] };

function venvBin(name) {
  const venv = process.env.ASSETC_PYTHON_VENV;
  if (!venv) throw new Error('set ASSETC_PYTHON_VENV to the virtualenv with the assetc wheel and gunicorn (`just test-python` does)');
  const bin = path.join(venv, 'bin', name);
  if (!fs.existsSync(bin)) throw new Error(`no \`${bin}\`: run \`just test-python\`, which installs it`);
  return bin;
}

/** A port free on 127.0.0.1 now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** `assetc build` of the example's assets for the asset origin; returns the manifest. */
function build(origin) {
  const run = spawnSync(assetcBin(), ['build', '--base-url', `${origin}/`, '--quiet'], {
    cwd: state.dir,
    encoding: 'utf8',
    timeout: 60_000,
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ASSETC_') && k !== 'PORT')),
  });
  if (run.status !== 0) throw new Error(`assetc build failed (${run.status ?? run.signal}):\n${run.stderr}`);
  return JSON.parse(fs.readFileSync(path.join(state.dir, 'build', 'assetc-manifest.json'), 'utf8'));
}

/** GET `u`; resolves with the status, or rejects on a connection error. */
function status(u) {
  return new Promise((resolve, reject) => {
    http.get(u, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    }).on('error', reject);
  });
}

/** Polls `check` (bounded) until it returns true. */
async function until(what, check, ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** gunicorn serving the Flask example from the temp copy. */
async function startApp(port) {
  const child = spawn(venvBin('gunicorn'), [
    // Threads (gthread): a browser's idle keep-alive connections would block a sync worker.
    '--bind', `127.0.0.1:${port}`, '--workers', '1', '--threads', '4', '--no-control-socket', 'app:app',
  ], {
    cwd: state.dir,
    env: { ...process.env, ASSETC_MANIFEST: path.join(state.dir, 'build', 'assetc-manifest.json') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) stream.on('data', (d) => state.appLog.push(String(d)));
  let exited = null;
  child.once('exit', (code, signal) => (exited = code ?? signal));
  state.app = child;
  await until(`gunicorn on port ${port}`, async () => {
    if (exited !== null) throw new Error(`gunicorn exited (${exited}): ${state.appLog.join('')}`);
    return (await status(`http://127.0.0.1:${port}/`)) === 200;
  }).catch((e) => {
    throw new Error(`${e.message}\n${state.appLog.join('')}`);
  });
}

async function launchBrowser() {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at \`${CHROMIUM}\`: \`apt-get install chromium\` (\`just test\` installs it)`);
  }
  const context = await chromium.launchPersistentContext(path.join(state.dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 800, height: 600 },
    timeout: ACTION_TIMEOUT,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  context.setDefaultTimeout(ACTION_TIMEOUT);
  const page = context.pages()[0] ?? (await context.newPage());
  const cdp = await context.newCDPSession(page);
  const netLog = new NetworkLog(cdp);
  await cdp.send('Network.enable');
  page.on('console', (m) => {
    if (m.type() === 'error') state.errors.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => state.errors.push(`page error: ${e.message}`));
  Object.assign(state, { context, page, net: netLog });
}

function assetUrl(logical, manifest = state.manifest) {
  // The example's names need no percent-encoding.
  return `${state.server.origin}/${manifest.entries[logical].path}`;
}

/** One visit: `action`, then the load, the module script's work and every request settled. */
async function visit(name, action) {
  state.net.begin();
  await action();
  await state.page.waitForLoadState('load');
  await state.page
    .waitForFunction(() => document.documentElement.dataset.assetsReady === 'yes')
    .catch((e) => {
      throw new Error(`${name}: the page's module script did not run (${e.message}); errors: ${JSON.stringify(state.errors)}; app log: ${state.appLog.join("")}; requests:\n${state.net.step.map(describeRequest).join('\n')}`);
    });
  await state.net.settled();
  const { entries, next } = await state.server.mark(name, state.logFrom);
  state.logFrom = next;
  return { requests: state.net.step.filter((r) => r.url?.startsWith(state.server.origin)), log: entries };
}

/** What the page shows: the theme applied (through the @import), the modules ran, the logo. */
async function assertRendered(why) {
  const r = await state.page.evaluate(() => ({
    background: getComputedStyle(document.body).backgroundColor,
    status: document.getElementById('status').textContent,
    logo: document.querySelector('header img').naturalWidth,
  }));
  assert.deepEqual(r, { background: 'rgb(250, 250, 245)', status: '3 metrics live', logo: 32 }, why);
  assert.deepEqual(state.errors, [], `${why}: errors in the page`);
}

describe('the Flask example in Chromium, assets from assetc serve', { timeout: 120_000 }, () => {
  before(async () => {
    state.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'assetc-flask-'));
    fs.cpSync(EXAMPLE, state.dir, { recursive: true, filter: (src) => !/[/\\](build|__pycache__)$/.test(src) });
    const assetPort = await freePort();
    state.manifest = build(`http://127.0.0.1:${assetPort}`);
    // In the example's folder, so its assetc.toml (CORS for the app's origin) applies.
    state.server = await Server.start(state.dir, 'build', `127.0.0.1:${assetPort}`);
    state.appOrigin = `http://127.0.0.1:${await freePort()}`;
    await startApp(Number(state.appOrigin.split(':').pop()));
    await launchBrowser();
  });

  after(async () => {
    await state.context?.close().catch(() => {});
    if (state.app && state.app.exitCode === null) {
      const exited = new Promise((resolve) => state.app.once('exit', resolve));
      state.app.kill('SIGTERM');
      const timer = setTimeout(() => state.app.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await state.server?.stop();
    if (state.dir) fs.rmSync(state.dir, { recursive: true, force: true });
  });

  it('first visit: every asset comes from assetc serve with 200 and the immutable policy; SRI and CORS pass', async () => {
    const { requests, log } = await visit('py-1-first', () => state.page.goto(`${state.appOrigin}/`));
    const expected = ASSETS.map((l) => assetUrl(l)).sort();
    const all = requests.map(describeRequest).join('\n');
    assert.deepEqual([...new Set(requests.map((r) => r.url))].sort(), expected, all);
    for (const u of expected) {
      // The logo is both the icon and an image: one fetch, and the other use from cache.
      const fetched = requests.filter((r) => r.url === u && !fromCache(r));
      assert.equal(fetched.length, 1, `${u} fetched once:\n${all}`);
      assert.equal(fetched[0].wireStatus, 200, describeRequest(fetched[0]));
      assert.equal(fetched[0].headers['cache-control'], IMMUTABLE, describeRequest(fetched[0]));
    }
    assert.deepEqual(
      log.map((e) => `${e.target} ${e.status}`).sort(),
      expected.map((u) => `${new URL(u).pathname} 200`),
      'the server sent each asset once',
    );
    await assertRendered('first visit');
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await state.page.screenshot({ path: path.join(ARTIFACTS, 'python-flask-dashboard.png') });
  });

  it('second page load: no request for any asset reaches the server', async () => {
    const { requests, log } = await visit('py-2-second', () => state.page.goto(`${state.appOrigin}/`));
    for (const r of requests) assert.ok(fromCache(r), `went to the server: ${describeRequest(r)}`);
    assert.deepEqual(log, [], 'the asset server saw requests on the second load');
    await assertRendered('second load');
  });

  it('next browser session on the same profile: the assets come from the disk cache, none is requested', async () => {
    await state.context.close();
    await launchBrowser();
    const { requests, log } = await visit('py-3-session', () => state.page.goto(`${state.appOrigin}/`));
    assert.ok(requests.length >= ASSETS.length - 1, `the page used its assets: ${requests.map(describeRequest)}`);
    for (const r of requests) assert.ok(fromCache(r), `went to the server: ${describeRequest(r)}`);
    assert.deepEqual(log, [], 'the asset server saw requests in the next session');
    await assertRendered('next session');
  });

  it('after a rebuild of one CSS file, the running app names its new URL and only that file is fetched', async () => {
    const old = state.manifest;
    const css = path.join(state.dir, 'assets', 'css', 'dashboard.css');
    fs.appendFileSync(css, '\nth { letter-spacing: .02em; }\n');
    state.manifest = build(state.server.origin);
    const changed = assetUrl('css/dashboard.css');
    assert.notEqual(changed, assetUrl('css/dashboard.css', old));
    await until('assetc serve to serve the new build', async () => (await status(changed)) === 200);
    state.logFrom = (await state.server.mark('py-reloaded', state.logFrom)).next;
    // The app looks at the manifest at most once a second: reload until the page names it.
    await until('the app to name the new stylesheet', async () => {
      const html = await (await fetch(`${state.appOrigin}/`)).text();
      return html.includes(changed);
    });
    const { requests, log } = await visit('py-4-rebuilt', () => state.page.goto(`${state.appOrigin}/`));
    for (const r of requests) {
      if (r.url === changed) assert.ok(!fromCache(r) && r.wireStatus === 200, describeRequest(r));
      else assert.ok(fromCache(r), `went to the server: ${describeRequest(r)}`);
    }
    assert.ok(requests.some((r) => r.url === changed), 'the new stylesheet was loaded');
    assert.deepEqual(log.map((e) => `${e.target} ${e.status}`), [`${new URL(changed).pathname} 200`]);
    await assertRendered('after the rebuild');
  });
});
