// What the browser asked for, from the DevTools protocol's Network events on a CDP session:
// one record per request, with the headers Chromium actually sent (ExtraInfo events), the
// response, and whether it came from the memory cache (`requestServedFromCache`) or the
// disk cache (`response.fromDiskCache`) rather than the server.

import { within } from './server.mjs';

export class NetworkLog {
  /** Every request seen, in order. */
  all = [];
  #byId = new Map();
  #step = 0;
  #listeners = [];

  /** Subscribes to `cdp`'s Network events (the caller sends `Network.enable`). */
  constructor(cdp) {
    const record = (id) => {
      let r = this.#byId.get(id);
      if (!r) {
        r = { id, step: this.#step, sent: {}, memoryCache: false, done: false };
        this.#byId.set(id, r);
        this.all.push(r);
      }
      return r;
    };
    cdp.on('Network.requestWillBeSent', (e) => {
      const r = record(e.requestId);
      Object.assign(r, { url: e.request.url, method: e.request.method, type: e.type });
      r.sent = { ...r.sent, ...lower(e.request.headers) };
    });
    cdp.on('Network.requestWillBeSentExtraInfo', (e) => {
      const r = record(e.requestId);
      r.sent = { ...r.sent, ...lower(e.headers) };
    });
    cdp.on('Network.requestServedFromCache', (e) => {
      record(e.requestId).memoryCache = true;
    });
    cdp.on('Network.responseReceived', (e) => {
      const r = record(e.requestId);
      r.status = e.response.status;
      r.headers = lower(e.response.headers);
      r.diskCache = Boolean(e.response.fromDiskCache);
      r.mimeType = e.response.mimeType;
    });
    cdp.on('Network.responseReceivedExtraInfo', (e) => {
      const r = record(e.requestId);
      r.wireStatus = e.statusCode;
      r.wireHeaders = lower(e.headers);
    });
    cdp.on('Network.loadingFinished', (e) => {
      const r = record(e.requestId);
      r.done = true;
      r.encodedBytes = e.encodedDataLength;
      this.#notify();
    });
    cdp.on('Network.loadingFailed', (e) => {
      const r = record(e.requestId);
      r.done = true;
      r.failed = e.errorText + (e.blockedReason ? ` (${e.blockedReason})` : '');
      this.#notify();
    });
  }

  #notify() {
    for (const listener of this.#listeners) listener();
  }

  /** Starts a new step: requests seen from now on belong to it. */
  begin() {
    this.#step += 1;
  }

  /** The current step's requests. */
  get step() {
    return this.all.filter((r) => r.step === this.#step);
  }

  /** Waits (bounded) until every request of the current step has finished or failed. */
  async settled(ms = 15_000) {
    await within(
      ms,
      `requests still in flight: ${this.step
        .filter((r) => !r.done)
        .map(describe)
        .join(', ')}`,
      new Promise((resolve) => {
        const check = () => {
          if (this.step.every((r) => r.done)) {
            this.#listeners = this.#listeners.filter((l) => l !== check);
            resolve();
          }
        };
        this.#listeners.push(check);
        check();
      }),
    );
  }
}

/** Whether the browser answered `r` from its own cache, memory or disk. */
export function fromCache(r) {
  return r.memoryCache || r.diskCache === true;
}

/** Where the answer came from: `memory cache`, `disk cache` or `network`. */
export function source(r) {
  if (r.memoryCache) return 'memory cache';
  if (r.diskCache) return 'disk cache';
  return 'network';
}

/** One line naming a request and what happened to it, for failure messages. */
export function describe(r) {
  // The status on the wire (a revalidation's 304) when the response came from the server.
  const status = r.failed ? `failed: ${r.failed}` : (r.wireStatus ?? r.status ?? 'no response');
  const conditional = r.sent['if-none-match'] ? ` (If-None-Match: ${r.sent['if-none-match']})` : '';
  return `${r.method ?? '?'} ${r.url ?? r.id}${conditional} → ${status} from ${source(r)}`;
}

function lower(headers = {}) {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}
