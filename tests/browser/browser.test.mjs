// End-to-end proof in a real browser (issue 7): Debian's Chromium, driven over the DevTools
// protocol by playwright-core, against the real `assetc serve` on 127.0.0.1. Every step
// asserts from the browser's Network events and cross-checks with the server's JSON
// access log: what Chromium fetched, what it took from its memory or disk cache, what it
// revalidated, and that the server saw exactly those requests and nothing else.
//
// Run: `just test` or `just test-browser` (which install Chromium and playwright-core when
// missing); by hand, after `cargo build` and `npm ci --prefix tests/browser`:
// `node --test tests/browser/browser.test.mjs` (ASSETC_BIN names another binary, CHROMIUM
// another browser). Screenshots: target/browser-artifacts/.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { chromium } from 'playwright-core';

import { describe as describeRequest, fromCache, NetworkLog, source } from './support/network.mjs';
import { build, Server } from './support/server.mjs';
import { changeTheme, FONT_FAMILY, LOGO_SIZE, THEME_COLOURS, writeSite } from './support/site.mjs';

const REPO = path.resolve(import.meta.dirname, '..', '..');
const ARTIFACTS = path.join(REPO, 'target', 'browser-artifacts');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
/** Bounds any one browser action (navigation, evaluation, screenshot). */
const ACTION_TIMEOUT = 20_000;
/** Bounds the whole test. */
const TOTAL_TIMEOUT = 150_000;

/** The fingerprinted files both pages load, by logical path. */
const SHARED = ['css/site.css', 'css/theme.css', 'js/app.js', 'fonts/open-sans.woff2', 'img/logo.png'];
/** Text files: served precompressed when the browser accepts it. */
const COMPRESSED = new Set(['index.html', 'about.html', 'css/site.css', 'css/theme.css', 'js/app.js']);

const state = {
  dir: null,
  server: null,
  context: null,
  page: null,
  net: null,
  manifest: null,
  /** Index of the first access-log entry not yet claimed by a step. */
  logFrom: 0,
  consoleErrors: [],
  /** Set when a step fails: later steps depend on its state and say so. */
  broken: null,
  /** Every request that reached the server over all steps, for the encoding check. */
  fetched: [],
  /** Every access-log entry of every step. */
  logged: [],
};

/** Chromium with a fresh profile in `state.dir`, a CDP session on its page, Network on. */
async function launchBrowser() {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at \`${CHROMIUM}\`: \`apt-get install chromium\` (\`just test\` installs it)`);
  }
  const context = await chromium.launchPersistentContext(path.join(state.dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 800, height: 600 },
    timeout: ACTION_TIMEOUT,
    args: [
      '--headless',
      '--no-sandbox', // tests and CI run as root
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  context.setDefaultTimeout(ACTION_TIMEOUT);
  const page = context.pages()[0] ?? (await context.newPage());
  const cdp = await context.newCDPSession(page);
  const net = new NetworkLog(cdp);
  await cdp.send('Network.enable');
  page.on('console', (m) => {
    if (m.type() === 'error') state.consoleErrors.push(`console error: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => state.consoleErrors.push(`page error: ${e.message}`));
  Object.assign(state, { context, page, net, cdp });
}

/**
 * Runs one step: `action` in the browser, then waits (bounded) for the load, the fonts and
 * every request of the step to finish, and closes the step in the access log. Returns the
 * step's requests and log entries.
 */
async function step(name, action) {
  state.net.begin();
  await action();
  await state.page.waitForLoadState('load');
  await state.page.evaluate(() => document.fonts.ready.then(() => undefined));
  await state.net.settled();
  const { entries, next } = await state.server.mark(name, state.logFrom);
  state.logFrom = next;
  const requests = state.net.step;
  // Which build the server was serving, for judging these responses later.
  for (const r of requests.filter((r) => !fromCache(r))) state.fetched.push({ ...r, manifest: state.manifest });
  for (const e of entries) state.logged.push({ ...e, manifest: state.manifest });
  return { requests, log: entries };
}

/**
 * Waits (bounded) until the running server answers `u` with `etag`: the new build is
 * served. Polls with HEAD, then closes those requests off in the access log.
 */
async function awaitReload(u, etag) {
  const deadline = Date.now() + 20_000;
  let seen;
  for (;;) {
    const res = await fetch(u, { method: 'HEAD', headers: { 'accept-encoding': 'br' } });
    seen = res.headers.get('etag');
    if (seen === etag) break;
    if (Date.now() > deadline) {
      throw new Error(`the server did not pick up the new build: HEAD ${u} still has ETag ${seen}, not ${etag}; stderr:\n${state.server.stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  state.logFrom = (await state.server.mark('reloaded', state.logFrom)).next;
}

/**
 * The dcb delta of `entry` against the dictionary request `r` offered (`Available-Dictionary:
 * :<base64 SHA-256>:`), when the build has one: what the server answers Chromium with.
 */
function deltaFor(r, entry) {
  const offered = r.sent?.['available-dictionary'];
  if (!offered) return null;
  const sha = Buffer.from(offered.replace(/^:|:$/g, ''), 'base64').toString('hex');
  return entry.variants[`dcb:${sha}`] ?? null;
}

/** Marks the running step broken if `fn` throws, so that later steps say why they stop. */
function guarded(name, fn) {
  return async () => {
    if (state.broken) throw new Error(`not run: it needs the state left by ${state.broken}, which failed`);
    try {
      await fn();
    } catch (e) {
      state.broken ??= `step \`${name}\``;
      throw e;
    }
  };
}

function url(logical, manifest = state.manifest) {
  const served = logical === 'index.html' ? '' : manifest.entries[logical].path;
  return `${state.server.origin}/${served}`;
}

/** The entry of `manifest` served at URL path `p`. */
function entryFor(p, manifest) {
  for (const [logical, entry] of Object.entries(manifest.entries)) {
    if (`/${entry.path}` === p || (logical === 'index.html' && p === '/')) return { logical, entry };
  }
  throw new Error(`\`${p}\` is not in the manifest of the build served then`);
}

function pathOf(u) {
  return new URL(u).pathname;
}

/** The request for `u` in `requests`; fails naming what was requested instead. */
function requestFor(requests, u) {
  const found = requests.filter((r) => r.url === u);
  assert.equal(
    found.length,
    1,
    `expected one request for ${u}, saw ${found.length}; requests: \n  ${requests.map(describeRequest).join('\n  ')}`,
  );
  return found[0];
}

/** Asserts that exactly `expected` (URLs) reached the server and everything else came from cache. */
function assertNetworkExactly(requests, expected, why) {
  for (const r of requests) {
    assert.ok(!r.failed, `${why}: request failed: ${describeRequest(r)}`);
    if (expected.includes(r.url)) {
      assert.equal(source(r), 'network', `${why}: expected from the server: ${describeRequest(r)}`);
    } else {
      assert.ok(fromCache(r), `${why}: expected from the browser cache, went to the server: ${describeRequest(r)}`);
    }
  }
  for (const u of expected) requestFor(requests, u);
}

/** Asserts that the server logged exactly `expected` ([path, status]) in this step, in any order. */
function assertLogExactly(log, expected, why) {
  const seen = log.map((e) => `${e.method} ${e.target} ${e.status}`).sort();
  const want = expected.map(([p, status]) => `GET ${p} ${status}`).sort();
  assert.deepEqual(seen, want, `${why}: the server's access log differs from what the browser fetched`);
}

/** What the page shows, measured in the page. */
async function rendering() {
  return state.page.evaluate(async (family) => {
    const faces = [...document.fonts].filter((f) => f.family.replaceAll('"', '') === family);
    const img = document.getElementById('logo');
    const h1 = document.getElementById('title');
    const canvas = document.createElement('canvas').getContext('2d');
    const width = (font) => {
      canvas.font = font;
      return canvas.measureText('assetc fingerprints').width;
    };
    return {
      faces: faces.map((f) => f.status),
      fontCheck: document.fonts.check(`16px "${family}"`),
      fontFamily: getComputedStyle(h1).fontFamily,
      // The web font's advance widths differ from the monospace fallback's.
      widthWithFont: width(`32px "${family}", monospace`),
      widthFallback: width('32px monospace'),
      imgComplete: img.complete,
      imgWidth: img.naturalWidth,
      colour: getComputedStyle(h1).color,
      script: document.documentElement.dataset.app,
    };
  }, FONT_FAMILY);
}

async function assertRenders(colour, why) {
  const r = await rendering();
  assert.deepEqual(r.faces, ['loaded'], `${why}: the @font-face "${FONT_FAMILY}" did not load: ${JSON.stringify(r)}`);
  assert.ok(r.fontCheck, `${why}: document.fonts.check says "${FONT_FAMILY}" is not ready`);
  assert.ok(r.fontFamily.startsWith(`"${FONT_FAMILY}"`), `${why}: h1 font-family is ${r.fontFamily}`);
  assert.notEqual(r.widthWithFont, r.widthFallback, `${why}: text measures the same as the fallback font`);
  assert.ok(r.imgComplete && r.imgWidth === LOGO_SIZE, `${why}: the logo did not decode: ${JSON.stringify(r)}`);
  assert.equal(r.colour, colour, `${why}: the heading colour is not the theme's`);
  assert.equal(r.script, '24', `${why}: js/app.js did not run`);
}

async function screenshot(name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await state.page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: false });
}

describe('assetc serve in Chromium', { timeout: TOTAL_TIMEOUT }, () => {
  before(async () => {
    state.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'assetc-browser-'));
    writeSite(path.join(state.dir, 'site'));
    state.manifest = build(state.dir, 'site', 'build');
    state.server = await Server.start(state.dir, 'build');
    await launchBrowser();
  });

  after(async () => {
    await state.context?.close().catch(() => {});
    await state.server?.stop();
    if (state.dir) fs.rmSync(state.dir, { recursive: true, force: true });
  });

  it(
    '1. first visit: the page and every asset load with 200, nothing fails, fonts and image render',
    guarded('1', async () => {
      const { requests, log } = await step('1-first-visit', () => state.page.goto(`${state.server.origin}/`));
      const expected = ['index.html', ...SHARED].map((l) => url(l));
      assertNetworkExactly(requests, expected, 'first visit');
      for (const r of requests) {
        assert.equal(r.wireStatus, 200, `first visit: not a 200 on the wire: ${describeRequest(r)}`);
      }
      assert.deepEqual(state.consoleErrors, [], 'first visit: console errors');
      assertLogExactly(log, expected.map((u) => [pathOf(u), 200]), 'first visit');
      // Fingerprinted responses carry the immutable policy, the page the revalidating one.
      for (const l of SHARED) {
        const r = requestFor(requests, url(l));
        assert.equal(r.headers['cache-control'], 'public, max-age=31536000, immutable', `${l}: ${describeRequest(r)}`);
      }
      const page = requestFor(requests, url('index.html'));
      assert.equal(page.headers['cache-control'], 'no-cache');
      assert.ok(page.headers.etag && page.headers['last-modified'], 'the page has validators');
      // What the browser decoded is what the build wrote.
      for (const l of ['index.html', 'css/theme.css']) {
        const r = requestFor(requests, url(l));
        const { body, base64Encoded } = await state.cdp.send('Network.getResponseBody', { requestId: r.id });
        const bytes = Buffer.from(body, base64Encoded ? 'base64' : 'utf8');
        const built = fs.readFileSync(path.join(state.dir, 'build', state.manifest.entries[l].path));
        assert.ok(bytes.equals(built), `${l}: the body the browser decoded differs from the built file`);
      }
      await assertRenders(THEME_COLOURS[0], 'first visit');
      await screenshot('1-first-visit');
    }),
  );

  it(
    '2. second page: the shared fingerprinted files come from the browser cache, the server sees only the page',
    guarded('2', async () => {
      const about = url('about.html');
      // Follow the link as a user would; the step waits for the new page's load.
      const { requests, log } = await step('2-second-page', () =>
        Promise.all([state.page.waitForURL(about, { waitUntil: 'load' }), state.page.click('#next')]),
      );
      assert.equal(state.page.url(), about);
      assertNetworkExactly(requests, [about], 'second page');
      for (const l of SHARED) requestFor(requests, url(l));
      assertLogExactly(log, [[pathOf(about), 200]], 'second page');
      assert.deepEqual(state.consoleErrors, [], 'second page: console errors');
      await assertRenders(THEME_COLOURS[0], 'second page');
      await screenshot('2-second-page');
    }),
  );

  it(
    '3. reload: the page is revalidated with If-None-Match and answered 304; fingerprinted files are not requested',
    guarded('3', async () => {
      const before = state.net.all.findLast((r) => r.url === url('about.html') && !fromCache(r));
      const { requests, log } = await step('3-reload', () => state.page.reload());
      const about = url('about.html');
      assertNetworkExactly(requests, [about], 'reload');
      const page = requestFor(requests, about);
      assert.equal(page.sent['if-none-match'], before.headers.etag, `reload: ${describeRequest(page)}`);
      assert.equal(page.wireStatus, 304, `reload: the page was not answered 304: ${describeRequest(page)}`);
      assertLogExactly(log, [[pathOf(about), 304]], 'reload');
      await assertRenders(THEME_COLOURS[0], 'reload');
    }),
  );

  it(
    '4. a rebuild with one CSS file changed, picked up by the running server: only that file and the page are fetched, the rest from cache',
    guarded('4', async () => {
      const old = state.manifest;
      changeTheme(path.join(state.dir, 'site'));
      state.manifest = build(state.dir, 'site', 'build');
      const theme = url('css/theme.css');
      assert.notEqual(theme, url('css/theme.css', old), 'the changed CSS file has a new name');
      for (const l of SHARED.filter((l) => l !== 'css/theme.css')) {
        assert.equal(state.manifest.entries[l].path, old.entries[l].path, `${l} kept its name`);
      }
      // The running server picks up the build swapped into its root by itself.
      await awaitReload(url('about.html'), state.manifest.entries['about.html'].variants.br.etag);
      assert.match(state.server.stderr, /reloaded/, 'the server logs its reload');

      const { requests, log } = await step('4-rebuild', () => state.page.reload());
      const about = url('about.html');
      assertNetworkExactly(requests, [about, theme], 'after the rebuild');
      const page = requestFor(requests, about);
      assert.equal(page.wireStatus, 200, `the changed page is sent whole: ${describeRequest(page)}`);
      assert.equal(requestFor(requests, theme).wireStatus, 200);
      assert.ok(
        (await state.page.content()).includes(state.manifest.entries['css/theme.css'].path),
        'the reloaded page references the new CSS URL',
      );
      assertLogExactly(log, [[pathOf(about), 200], [pathOf(theme), 200]], 'after the rebuild');
      assert.deepEqual(state.consoleErrors, [], 'after the rebuild: console errors');
      await assertRenders(THEME_COLOURS[1], 'after the rebuild');
      await screenshot('4-after-rebuild');
    }),
  );

  it(
    '5. the next session: Chromium restarted on the same profile revalidates the page (304) and takes every fingerprinted file from its disk cache',
    guarded('5', async () => {
      await state.context.close();
      await launchBrowser();
      const about = url('about.html');
      const { requests, log } = await step('5-next-session', () => state.page.goto(about));
      assertNetworkExactly(requests, [about], 'next session');
      for (const l of SHARED) {
        const r = requestFor(requests, url(l));
        assert.equal(source(r), 'disk cache', `next session: ${describeRequest(r)}`);
      }
      const page = requestFor(requests, about);
      assert.equal(page.wireStatus, 304, `next session: ${describeRequest(page)}`);
      assertLogExactly(log, [[pathOf(about), 304]], 'next session');
      assert.deepEqual(state.consoleErrors, [], 'next session: console errors');
      await assertRenders(THEME_COLOURS[1], 'next session');
      await screenshot('5-next-session');
    }),
  );

  it(
    "6. with Accept-Encoding as Chromium sends it, text comes in the best precompressed representation (br, or a dcb delta against the version Chromium holds)",
    guarded('6', async () => {
      // Every response that came from the server in steps 1 to 5, and its log entry.
      assert.ok(state.fetched.length >= 10, `too few fetches to judge: ${state.fetched.length}`);
      for (const r of state.fetched) {
        const why = describeRequest(r);
        const accept = r.sent['accept-encoding'] ?? '';
        assert.match(accept, /\bbr\b/, `${why}: Chromium did not offer br: \`${accept}\``);
        const { logical, entry } = entryFor(pathOf(r.url), r.manifest);
        const headers = r.wireHeaders ?? {};
        if (COMPRESSED.has(logical)) {
          // A changed file Chromium holds an older version of comes as a delta (RFC 9842;
          // tests/browser/dictionaries.test.mjs), the rest as br.
          const delta = deltaFor(r, entry);
          const [coding, rep] = delta ? ['dcb', delta] : ['br', entry.variants.br];
          // A 304 carries no Content-Encoding (RFC 9110 §15.4.5): the browser keeps the
          // cached body, whose ETag it sent and got back.
          const encoding = r.wireStatus === 304 ? r.headers['content-encoding'] : headers['content-encoding'];
          assert.equal(encoding, coding, `${why}: Content-Encoding`);
          assert.equal(headers.etag, rep.etag, `${why}: the ${coding} representation's own ETag`);
          assert.match(headers.vary ?? '', /accept-encoding/i, `${why}: Vary`);
          if (r.wireStatus === 200) {
            assert.equal(Number(headers['content-length']), rep.size, `${why}: the ${coding} file's size`);
          }
        } else {
          assert.equal(headers['content-encoding'], undefined, `${why}: woff2 and PNG are sent as they are`);
          assert.equal(Number(headers['content-length']), entry.size, `${why}: Content-Length`);
        }
      }
      // The server's log agrees: each 200 for a text file sent the .br file's bytes, or the
      // delta's when the request for it offered a dictionary the build has a delta against.
      for (const e of state.logged.filter((e) => e.status === 200)) {
        const { logical, entry } = entryFor(e.target, e.manifest);
        const offered = state.fetched.find((r) => pathOf(r.url) === e.target && deltaFor(r, entry));
        const size = !COMPRESSED.has(logical) ? entry.size
          : offered ? deltaFor(offered, entry).size : entry.variants.br.size;
        assert.equal(e.bytes, size, `access log: ${e.method} ${e.target} sent ${e.bytes} bytes`);
      }
      await assertRenders(THEME_COLOURS[1], 'precompressed');
      await screenshot('6-precompressed');
    }),
  );
});
