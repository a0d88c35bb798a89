// The real `assetc` binary: builds with `assetc build`, and `assetc serve` as a child
// process whose JSON access log (stdout) the test reads line by line.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import readline from 'node:readline';

const REPO = path.resolve(import.meta.dirname, '..', '..', '..');

/** The binary cargo built: `$ASSETC_BIN` (the justfile sets it), else target/debug/assetc. */
export function assetcBin() {
  const bin = process.env.ASSETC_BIN || path.join(REPO, 'target', 'debug', 'assetc');
  if (!fs.existsSync(bin)) {
    throw new Error(`no assetc binary at \`${bin}\`: run \`cargo build\` first or set ASSETC_BIN`);
  }
  return bin;
}

/** The environment for the binary: this one less any `ASSETC_*` setting and `PORT`. */
function childEnv() {
  const env = { ...process.env, NO_COLOR: '1' };
  for (const key of Object.keys(env)) {
    if (key.startsWith('ASSETC_') || key === 'PORT') delete env[key];
  }
  return env;
}

/** `assetc build --input <input> --output <output> --quiet`, in `cwd`; throws on failure. */
export function build(cwd, input, output) {
  const run = spawnSync(assetcBin(), ['build', '--input', input, '--output', output, '--quiet'], {
    cwd,
    env: childEnv(),
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (run.status !== 0) {
    throw new Error(`assetc build failed (${run.status ?? run.signal}):\n${run.stderr}`);
  }
  return JSON.parse(fs.readFileSync(path.join(cwd, output, 'assetc-manifest.json'), 'utf8'));
}

/** Resolves with `promise`'s value, or rejects with `message` after `ms`. */
export function within(ms, message, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} (waited ${ms} ms)`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A running `assetc serve --access-log json`; `stop()` ends it. */
export class Server {
  /** The parsed access-log entries, in order. */
  log = [];
  #waiters = [];
  #stderr = [];

  constructor(child, addr) {
    this.child = child;
    this.addr = addr;
  }

  /**
   * Starts `assetc serve --root <root> --bind <bind> --access-log json` in `cwd` and waits
   * (bounded) for its `listening on` line.
   */
  static async start(cwd, root, bind = '127.0.0.1:0') {
    const child = spawn(
      assetcBin(),
      [
        'serve', '--root', root, '--bind', bind,
        '--access-log', 'json', '--workers', '1', '--shutdown-timeout', '2',
      ],
      { cwd, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const stderr = [];
    const addr = await within(
      20_000,
      `assetc serve printed no \`listening on\` line; stderr: ${JSON.stringify(stderr)}`,
      new Promise((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (code, signal) =>
          reject(new Error(`assetc serve exited (${code ?? signal}): ${stderr.join('\n')}`)),
        );
        readline.createInterface({ input: child.stderr }).on('line', (line) => {
          stderr.push(line);
          const m = line.match(/^listening on http:\/\/(\S+)$/);
          if (m) resolve(m[1]);
        });
      }),
    ).catch((e) => {
      child.kill('SIGKILL');
      throw e;
    });
    const server = new Server(child, addr);
    server.#stderr = stderr;
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      let entry;
      try {
        entry = JSON.parse(line);
      } catch {
        entry = { unparsed: line };
      }
      server.log.push(entry);
      for (const waiter of server.#waiters) waiter();
    });
    return server;
  }

  get origin() {
    return `http://${this.addr}`;
  }

  get port() {
    return Number(this.addr.split(':').pop());
  }

  /** What the server said on stderr (diagnostics, reload events). */
  get stderr() {
    return this.#stderr.join('\n');
  }

  /**
   * Closes a step of the access log: requests a marker URL (a 404) and waits until its
   * entry appears. The server logs a request before it answers it, so every request the
   * browser had an answer to before the marker is logged before the marker's entry.
   * Returns the entries logged since `from` (an index into `log`), marker excluded.
   */
  async mark(name, from) {
    const target = `/__assetc-browser-test/${encodeURIComponent(name)}`;
    await within(
      10_000,
      `marker request \`${target}\` got no answer`,
      new Promise((resolve, reject) => {
        http
          .get(`${this.origin}${target}`, { agent: false }, (res) => {
            res.resume();
            res.on('end', resolve);
          })
          .on('error', reject);
      }),
    );
    const index = await within(
      10_000,
      `the access log has no entry for the marker \`${target}\``,
      new Promise((resolve) => {
        const check = () => {
          const i = this.log.findIndex((e, i) => i >= from && e.target === target);
          if (i >= 0) {
            this.#waiters = this.#waiters.filter((w) => w !== check);
            resolve(i);
          }
        };
        this.#waiters.push(check);
        check();
      }),
    );
    return { entries: this.log.slice(from, index), next: index + 1 };
  }

  /** Ends the process (SIGTERM, then SIGKILL after 10 s) and waits for it to exit. */
  async stop() {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
