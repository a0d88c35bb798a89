// The browser half of tests/realworld.rs (not a `node --test` file: the Rust test runs it
// once per site and server and judges what it prints). Headless Chromium loads each page
// of a plan in one fresh profile, runs the page's checks (an element that only the site's
// JavaScript makes, a search that must find a word), and reports, per page: every request
// that failed or answered 400 or more, every console error and uncaught exception, and
// every script the page evaluated (URL and content hash, from the DevTools protocol's
// `Debugger.scriptParsed`), so the caller can tell a module evaluated twice under two names.
//
// Usage: node realworld.mjs PLAN.json  ->  JSON on stdout: {"pages": [{url, failed, errors,
// scripts, checks}]}. PLAN: {"pages": [{"url", "waitFor"?, "search"?: {"input"?, "url"?,
// "query", "results"}, "eval"?: "expression that must be true"}]}.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// Bounds every wait; a page that needs longer is a failure, not a hang.
const TIMEOUT = 30_000;

const plan = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'assetc-realworld-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM,
  headless: true,
  viewport: { width: 1000, height: 700 },
  timeout: TIMEOUT,
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
context.setDefaultTimeout(TIMEOUT);
const page = context.pages()[0] ?? (await context.newPage());
const cdp = await context.newCDPSession(page);
await cdp.send('Debugger.enable');

// What the current page did; reset before each page of the plan.
let current;
const fresh = (url) => ({ url, failed: [], errors: [], scripts: [], checks: [] });

// Requests of every kind, the document's and its workers' (`context` sees both).
context.on('requestfailed', (request) => {
  current.failed.push(`${request.url()}: ${request.failure()?.errorText ?? 'failed'}`);
});
context.on('response', (response) => {
  if (response.status() >= 400) {
    current.failed.push(`${response.url()}: ${response.status()}`);
  }
});
page.on('console', (message) => {
  const where = message.location()?.url ?? '';
  // Chromium asks for /favicon.ico by itself for a page that names no icon (Sphinx's,
  // Django's): not a request of the site's.
  if (message.type() === 'error' && !where.endsWith('/favicon.ico')) {
    current.errors.push(`console: ${message.text()} (${where})`);
  }
});
page.on('pageerror', (error) => current.errors.push(`uncaught: ${error.message}`));
cdp.on('Debugger.scriptParsed', (e) => {
  // Scripts the page evaluated from a URL (inline ones have the page's URL, evals none).
  if (e.url) {
    current.scripts.push({ url: e.url, hash: e.hash });
  }
});

const report = { pages: [] };
for (const step of plan.pages) {
  // A full load for every page, even one that differs from the last only by its hash.
  await page.goto('about:blank');
  current = fresh(step.url);
  try {
    await page.goto(step.url, { waitUntil: 'load' });
    if (step.waitFor) {
      await page.waitForSelector(step.waitFor, { state: 'attached' });
      current.checks.push(`found ${step.waitFor}`);
    }
    if (step.eval) {
      await page.waitForFunction(step.eval, null, { timeout: TIMEOUT });
      current.checks.push(`true: ${step.eval}`);
    }
    if (step.search) {
      const { input, query, results } = step.search;
      if (input) {
        // Typed key by key: search boxes listen to keyboard events, not only `input`.
        await page.click(input);
        await page.locator(input).pressSequentially(query, { delay: 30 });
      }
      await page.waitForSelector(results, { state: 'attached' });
      const found = await page.locator(results).count();
      current.checks.push(`search \`${query}\`: ${found} results (${results})`);
    }
    // Every image of the page loaded (a renamed image named by a stale string is a 404,
    // but one the page never asked for would not be).
    const broken = await page.evaluate(() =>
      [...document.images].filter((img) => img.complete && img.naturalWidth === 0).map((img) => img.src),
    );
    for (const src of broken) {
      current.failed.push(`${src}: image did not load`);
    }
    // Late requests (a lazy chunk, the search worker's index) settle before the report.
    await page.waitForLoadState('networkidle', { timeout: TIMEOUT });
  } catch (error) {
    current.errors.push(`check failed: ${error.message.split('\n')[0]}`);
  }
  report.pages.push(current);
}

await context.close();
fs.rmSync(profile, { recursive: true, force: true });
process.stdout.write(JSON.stringify(report));
