// The fetch octokit sends every HTTP attempt through. It gives each attempt its own deadline
// (octokit reuses one signal across retries, which would make every retry of a timed-out
// request fail at once), reads the whole body inside that deadline (a body that stalls
// halfway counts as a timeout, not as an empty answer), shows every response's headers to
// the rate-limit tracker, and holds requests back while a rate-limit pause is in force.

export interface TimedFetchOptions {
  timeoutMs: number;
  /** Called for every HTTP response, retries included. */
  onResponse?: (attempt: Attempt, get: (name: string) => string | null) => void;
  /** Called when an attempt got no complete answer (timeout, refused, dropped). */
  onFailure?: (attempt: Attempt, err: unknown) => void;
  gate?: PauseGate;
  fetch?: typeof globalThis.fetch;
}

/** A shared "nobody sends before T" barrier: a secondary rate limit holds back all queued requests. */
export class PauseGate {
  private until = 0;

  pauseFor(ms: number): void {
    this.until = Math.max(this.until, Date.now() + ms);
  }

  async wait(): Promise<void> {
    for (let left = this.until - Date.now(); left > 0; left = this.until - Date.now()) {
      await new Promise((resolve) => setTimeout(resolve, left));
    }
  }
}

export interface Attempt {
  method: string;
  /** Path and query of the request (never credentials: those travel in headers). */
  path: string;
  status?: number;
  ms: number;
}

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

export function createTimedFetch(opts: TimedFetchOptions): typeof globalThis.fetch {
  const inner = opts.fetch ?? globalThis.fetch;
  return async (input, init) => {
    await opts.gate?.wait();
    // A ref'd timer, not AbortSignal.timeout (whose timer does not keep the process alive):
    // when a server closes a fresh connection just as the request goes out, Node 20's fetch
    // can stay pending forever holding no handle (seen with node:http + fetch on loopback),
    // and the process would simply exit mid-cycle. With this it times out and is retried.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new DOMException("request timed out", "TimeoutError")), opts.timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, deadline.signal]) : deadline.signal;
    const started = Date.now();
    const url = new URL(input instanceof Request ? input.url : String(input));
    const attempt: Attempt = { method: init?.method ?? "GET", path: url.pathname + url.search, ms: 0 };
    let res: globalThis.Response;
    let body: ArrayBuffer | null;
    try {
      res = await inner(input, { ...init, signal });
      body = NULL_BODY_STATUS.has(res.status) ? null : await res.arrayBuffer();
    } catch (err) {
      opts.onFailure?.({ ...attempt, ms: Date.now() - started }, err);
      throw err;
    } finally {
      clearTimeout(timer);
    }
    opts.onResponse?.({ ...attempt, status: res.status, ms: Date.now() - started }, (name) => res.headers.get(name));
    const copy = new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
    Object.defineProperty(copy, "url", { value: res.url });
    return copy;
  };
}
