// Preload hints in a real browser (issue 18): `assetc serve` with `[serve] preload_links`
// sends each page a `Link` header of hints computed from the manifest, and Debian's
// Chromium uses every one of them: each hinted file is fetched once, by the hint (its
// request is not started by the page or file that names it), and no "preloaded but not
// used" warning appears. A control page, whose header rule adds two hints of the wrong
// kind, shows that Chromium does warn here, and how long after the load event: the home
// page is then watched for that long.
//
// Run: `just test` or `just test-browser`; by hand, after `cargo build` and `npm ci
// --prefix tests/browser`: `node --test tests/browser/preload.test.mjs`.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { chromium } from 'playwright-core';

import { build, Server, within } from './support/server.mjs';

const REPO = path.resolve(import.meta.dirname, '..', '..');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
/** Bounds any one browser action (navigation, evaluation). */
const ACTION_TIMEOUT = 20_000;
/** Bounds the wait for the control page's warnings. */
const WARNING_TIMEOUT = 15_000;
/** Chromium's two warnings about hints that do not match what the page asks for. */
const UNUSED = /was preloaded using link preload but not used/;
const MISMATCH = /is found, but is not used because the request credentials mode does not match/;

const state = { dir: null, server: null, manifest: null, warnedAfter: null };

function writeSite(dir) {
  const write = (p, body) => {
    fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    fs.writeFileSync(path.join(dir, p), body);
  };
  fs.mkdirSync(path.join(dir, 'fonts'), { recursive: true });
  fs.copyFileSync(path.join(REPO, 'assets', 'fonts', 'open-sans.woff2'), path.join(dir, 'fonts', 'face.woff2'));
  write('index.html', `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>home</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/css/site.css">
<script type="module" src="/js/app.js"></script>
</head><body><h1 id="title">preloaded</h1></body></html>
`);
  // Loads the module but not the stylesheet: the rule's font hint has nothing to use it.
  write('control.html', `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>control</title>
<link rel="icon" href="data:,">
<script type="module" src="/js/app.js"></script>
</head><body><h1 id="title">control</h1></body></html>
`);
  write('css/site.css', `@font-face { font-family: "Preload Face"; src: url(../fonts/face.woff2) format("woff2"); }
h1 { font-family: "Preload Face", monospace; font-size: 32px; }
`);
  write('js/app.js', "import { mark } from './util.js';\nmark(document.documentElement);\n");
  write('js/util.js', "export function mark(el) { el.dataset.app = 'ran'; }\n");
}

/**
 * Opens `url` in a fresh profile and records the document's response, every request
 * with its initiator, and every console message; `close()` ends the browser.
 */
async function visit(url) {
  const profile = fs.mkdtempSync(path.join(state.dir, 'profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    timeout: ACTION_TIMEOUT,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  context.setDefaultTimeout(ACTION_TIMEOUT);
  const page = context.pages()[0] ?? (await context.newPage());
  const cdp = await context.newCDPSession(page);
  const seen = { requests: [], console: [], document: null, loadedAt: null };
  const byId = new Map();
  cdp.on('Network.requestWillBeSent', (e) => {
    const r = { url: e.request.url, initiator: e.initiator, fromCache: false };
    byId.set(e.requestId, r);
    seen.requests.push(r);
  });
  cdp.on('Network.requestServedFromCache', (e) => {
    if (byId.has(e.requestId)) byId.get(e.requestId).fromCache = true;
  });
  cdp.on('Network.responseReceived', (e) => {
    const r = byId.get(e.requestId);
    if (r) Object.assign(r, { status: e.response.status, diskCache: e.response.fromDiskCache });
    if (e.type === 'Document') seen.document = e.response;
  });
  await cdp.send('Network.enable');
  page.on('console', (m) => seen.console.push(`${m.type()}: ${m.text()}`));
  await page.goto(url);
  await page.waitForLoadState('load');
  seen.loadedAt = Date.now();
  await page.evaluate(() => document.fonts.ready.then(() => undefined));
  seen.rendered = await page.evaluate(() => ({
    app: document.documentElement.dataset.app,
    font: getComputedStyle(document.getElementById('title')).fontFamily,
    faces: [...document.fonts].map((f) => f.status),
  }));
  seen.close = () => context.close();
  return seen;
}

function lower(headers) {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

describe('preload hints in Chromium', { timeout: 90_000 }, () => {
  before(async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at \`${CHROMIUM}\` (\`just test-deps\` installs it)`);
    state.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'assetc-preload-'));
    writeSite(path.join(state.dir, 'site'));
    state.manifest = build(state.dir, 'site', 'build');
    const served = (l) => `/${state.manifest.entries[l].path}`;
    // The control page's rule: a font the page never uses, and its module hinted as a
    // classic script (fetched without CORS, so the module's own request cannot use it).
    const rule = `<${served('fonts/face.woff2')}>; rel=preload; as=font; crossorigin, `
      + `<${served('js/app.js')}>; rel=preload; as=script`;
    fs.writeFileSync(path.join(state.dir, 'assetc.toml'), `[serve]
preload_links = true

[[serve.headers]]
path = "/control.html"
headers = { Link = "${rule}" }
`);
    state.server = await Server.start(state.dir, 'build');
  });

  after(async () => {
    await state.server?.stop();
    if (state.dir) fs.rmSync(state.dir, { recursive: true, force: true });
  });

  it('control: Chromium warns about a hint nothing uses and one of the wrong kind', async () => {
    const seen = await visit(`${state.server.origin}/control.html`);
    try {
      // Waits (bounded) for both warnings: Chromium sends them a few seconds after load.
      await within(WARNING_TIMEOUT, `no warnings about the control's hints; console: ${JSON.stringify(seen.console)}`,
        new Promise((resolve) => {
          const check = () => (seen.console.filter((m) => UNUSED.test(m)).length >= 2 ? resolve() : setTimeout(check, 50));
          check();
        }));
      state.warnedAfter = Date.now() - seen.loadedAt;
      const font = `${state.server.origin}/${state.manifest.entries['fonts/face.woff2'].path}`;
      const app = `${state.server.origin}/${state.manifest.entries['js/app.js'].path}`;
      assert.ok(seen.console.some((m) => UNUSED.test(m) && m.includes(font)), JSON.stringify(seen.console));
      assert.ok(seen.console.some((m) => UNUSED.test(m) && m.includes(app)), JSON.stringify(seen.console));
      assert.ok(seen.console.some((m) => MISMATCH.test(m) && m.includes(app)), JSON.stringify(seen.console));
      // The module hinted as a classic script is requested twice.
      assert.equal(seen.requests.filter((r) => r.url === app).length, 2, JSON.stringify(seen.requests));
    } finally {
      await seen.close();
    }
  });

  it('home: every hint is fetched once, by the hint, and used, with no warning', async () => {
    assert.ok(state.warnedAfter !== null, 'needs the control, which failed');
    const from = state.server.log.length;
    const seen = await visit(`${state.server.origin}/`);
    try {
      const origin = state.server.origin;
      const url = (l) => `${origin}/${state.manifest.entries[l].path}`;
      const hinted = ['css/site.css', 'fonts/face.woff2', 'js/app.js', 'js/util.js'];
      assert.equal(
        lower(seen.document.headers).link,
        `</${state.manifest.entries['css/site.css'].path}>; rel=preload; as=style, `
          + `</${state.manifest.entries['fonts/face.woff2'].path}>; rel=preload; as=font; crossorigin, `
          + `</${state.manifest.entries['js/app.js'].path}>; rel=modulepreload, `
          + `</${state.manifest.entries['js/util.js'].path}>; rel=modulepreload`,
      );
      // Who names each file: the page, or the file that references it. With the hint, the
      // request is started by the Link header instead.
      const namedBy = {
        'css/site.css': `${origin}/`,
        'fonts/face.woff2': url('css/site.css'),
        'js/app.js': `${origin}/`,
        'js/util.js': url('js/app.js'),
      };
      for (const l of hinted) {
        const requests = seen.requests.filter((r) => r.url === url(l));
        assert.equal(requests.length, 1, `${l}: requested ${requests.length} times: ${JSON.stringify(seen.requests)}`);
        const [r] = requests;
        assert.ok(!r.fromCache && !r.diskCache && r.status === 200, `${l}: ${JSON.stringify(r)}`);
        assert.ok(r.initiator.type !== 'parser' && r.initiator.url !== namedBy[l],
          `${l}: started by what names it, not by the hint: ${JSON.stringify(r.initiator)}`);
      }
      // The page rendered with them: the module ran, the face loaded and applies.
      assert.deepEqual(seen.rendered.faces, ['loaded'], JSON.stringify(seen.rendered));
      assert.equal(seen.rendered.app, 'ran');
      assert.ok(seen.rendered.font.startsWith('"Preload Face"'), seen.rendered.font);
      // Watched as long as the control took to warn, and a second more (the warning is
      // about the absence of a use, so there is no event to wait for).
      const until = seen.loadedAt + state.warnedAfter + 1000;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, until - Date.now())));
      assert.deepEqual(seen.console.filter((m) => /preload/i.test(m)), []);
      // The server saw each file once.
      const { entries } = await state.server.mark('home', from);
      for (const l of hinted) {
        const n = entries.filter((e) => e.target === `/${state.manifest.entries[l].path}`).length;
        assert.equal(n, 1, `${l}: the server sent it ${n} times`);
      }
    } finally {
      await seen.close();
    }
  });
});
