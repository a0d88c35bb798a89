// Compression dictionaries in a real browser (issue 21, RFC 9842): Chromium, with a
// persistent profile (dictionaries are not stored off the record), loads page v1 from
// `assetc serve`; the site is rebuilt with one script and one stylesheet changed and the
// running server picks the build up; on reload Chromium offers the v1 files it stored as
// dictionaries (`Available-Dictionary`), and the changed files arrive as `dcb`/`dcz`
// deltas of the build's size, which it decodes: the page runs the new script and applies
// the new style. Plain http://127.0.0.1 is a secure context, so no TLS is needed here.
//
// Run: `just test` or `just test-browser`; by hand, after `cargo build` and `npm ci
// --prefix tests/browser`: `node --test tests/browser/dictionaries.test.mjs`.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { chromium } from 'playwright-core';

import { build, Server } from './support/server.mjs';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
/** Bounds any one browser action (navigation, evaluation). */
const ACTION_TIMEOUT = 20_000;

const state = { dir: null, server: null, context: null };

/** A script of 600 small functions that marks the page with `version`. */
function script(version) {
  const lines = [];
  for (let i = 0; i < 600; i++) lines.push(`function f${i}(x) { return x * ${i * 7} + ${i}; }`);
  lines.push(`document.documentElement.dataset.version = '${version}';`);
  return `${lines.join('\n')}\n`;
}

/** A stylesheet of 400 rules, and the title in `colour`. */
function stylesheet(colour) {
  const rules = [];
  for (let i = 0; i < 400; i++) rules.push(`.c${i} { margin: ${i}px ${i % 7}px; }`);
  rules.push(`#title { color: ${colour}; }`);
  return `${rules.join('\n')}\n`;
}

function writeSite(dir, version, colour) {
  const write = (p, body) => {
    fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    fs.writeFileSync(path.join(dir, p), body);
  };
  write('index.html', `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>dictionaries</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/css/site.css">
<script src="/js/app.js" defer></script>
</head><body><h1 id="title">dictionaries</h1></body></html>
`);
  write('js/app.js', script(version));
  write('css/site.css', stylesheet(colour));
}

/** `:<base64 SHA-256>:` of a file in the build: what Chromium sends for it (§2.2). */
function availableDictionary(file) {
  return `:${crypto.createHash('sha256').update(fs.readFileSync(file)).digest('base64')}:`;
}

/**
 * Loads the page with `action` and returns, per URL, what the network saw: the request
 * headers sent, the response headers, and the bytes transferred (CDP `encodedDataLength`:
 * headers and body as received).
 */
async function load(page, action) {
  const cdp = await state.context.newCDPSession(page);
  const byId = new Map();
  const get = (id) => {
    if (!byId.has(id)) byId.set(id, {});
    return byId.get(id);
  };
  cdp.on('Network.requestWillBeSent', (e) => Object.assign(get(e.requestId), { url: e.request.url }));
  cdp.on('Network.requestWillBeSentExtraInfo', (e) => Object.assign(get(e.requestId), { sent: lower(e.headers) }));
  cdp.on('Network.responseReceived', (e) => Object.assign(get(e.requestId), { status: e.response.status, headers: lower(e.response.headers) }));
  cdp.on('Network.responseReceivedExtraInfo', (e) => Object.assign(get(e.requestId), { headersText: e.headersText }));
  cdp.on('Network.loadingFinished', (e) => Object.assign(get(e.requestId), { transferred: e.encodedDataLength }));
  await cdp.send('Network.enable');
  await action();
  await page.waitForLoadState('load');
  const rendered = await page.evaluate(() => ({
    version: document.documentElement.dataset.version,
    colour: getComputedStyle(document.getElementById('title')).color,
  }));
  await cdp.detach();
  return { requests: [...byId.values()], rendered };
}

function lower(headers) {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
}

/** Waits (bounded) until the server answers `url` with `etag`: it serves the new build. */
async function awaitReload(url, etag) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const res = await fetch(url, { method: 'HEAD', headers: { 'accept-encoding': 'identity' } });
    if (res.headers.get('etag') === etag) return;
    if (Date.now() > deadline) {
      throw new Error(`the server did not pick up the new build at ${url}; stderr:\n${state.server.stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('compression dictionaries in Chromium', { timeout: 120_000 }, () => {
  before(async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at \`${CHROMIUM}\` (\`just test-deps\` installs it)`);
    state.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'assetc-dictionaries-'));
    writeSite(path.join(state.dir, 'site'), 'v1', 'rgb(10, 20, 30)');
    state.v1 = build(state.dir, 'site', 'build');
    state.server = await Server.start(state.dir, 'build');
    state.context = await chromium.launchPersistentContext(path.join(state.dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      timeout: ACTION_TIMEOUT,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    state.context.setDefaultTimeout(ACTION_TIMEOUT);
  });

  after(async () => {
    await state.context?.close();
    await state.server?.stop();
    if (state.dir) fs.rmSync(state.dir, { recursive: true, force: true });
  });

  it('after a rebuild, the changed script and stylesheet arrive as deltas against v1, and run', async (t) => {
    const origin = state.server.origin;
    const page = state.context.pages()[0] ?? (await state.context.newPage());
    const first = await load(page, () => page.goto(`${origin}/`));
    assert.deepEqual(first.rendered, { version: 'v1', colour: 'rgb(10, 20, 30)' });
    for (const l of ['js/app.js', 'css/site.css']) {
      const r = first.requests.find((q) => q.url === `${origin}/${state.v1.entries[l].path}`);
      assert.ok(r, `${l} was not requested: ${JSON.stringify(first.requests)}`);
      assert.equal(r.headers['content-encoding'], 'br', `${l}: ${JSON.stringify(r)}`);
      assert.match(r.headers['use-as-dictionary'], /^match="[a-z]+\.\*\.(js|css)", match-dest=\("(script|style)"\)$/);
    }

    // One script line and one style rule change; the running server reloads by itself.
    writeSite(path.join(state.dir, 'site'), 'v2', 'rgb(200, 20, 30)');
    const v2 = build(state.dir, 'site', 'build');
    await awaitReload(`${origin}/`, v2.entries['index.html'].etag);

    const from = state.server.log.length;
    const second = await load(page, () => page.reload());
    assert.deepEqual(second.rendered, { version: 'v2', colour: 'rgb(200, 20, 30)' }, 'the page runs the new script and style');
    const { entries } = await state.server.mark('reloaded', from);
    for (const l of ['js/app.js', 'css/site.css']) {
      const url = `${origin}/${v2.entries[l].path}`;
      const r = second.requests.find((q) => q.url === url);
      assert.ok(r, `${l} v2 was not requested: ${JSON.stringify(second.requests)}`);
      const old = path.join(state.dir, 'build', state.v1.entries[l].path);
      const offered = availableDictionary(old);
      assert.equal(r.sent['available-dictionary'], offered, `${l}: Chromium offers v1: ${JSON.stringify(r.sent)}`);
      const coding = r.headers['content-encoding'];
      assert.ok(coding === 'dcb' || coding === 'dcz', `${l}: ${JSON.stringify(r.headers)}`);
      const sha = crypto.createHash('sha256').update(fs.readFileSync(old)).digest('hex');
      const delta = v2.entries[l].variants[`${coding}:${sha}`];
      assert.equal(r.headers.etag, delta.etag);
      assert.equal(r.headers.vary, 'Accept-Encoding, Available-Dictionary');
      // What went over the wire: the response head Chromium received, then the delta.
      assert.equal(typeof r.headersText, 'string', `${l}: no raw head: ${JSON.stringify(r)}`);
      assert.equal(r.transferred, Buffer.byteLength(r.headersText) + delta.size, `${l}: ${JSON.stringify(r)}`);
      assert.ok(delta.size * 5 < v2.entries[l].variants.br.size, `${l}: delta ${delta.size} B, br ${v2.entries[l].variants.br.size} B`);
      t.diagnostic(`${l}: ${coding} ${delta.size} B (br ${v2.entries[l].variants.br.size} B), ${r.transferred} B on the wire`);
      const logged = entries.filter((e) => e.target === `/${v2.entries[l].path}`);
      assert.deepEqual(logged.map((e) => [e.status, e.bytes]), [[200, delta.size]], `${l}: ${JSON.stringify(entries)}`);
    }
  });
});
