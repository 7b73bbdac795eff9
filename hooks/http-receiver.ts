// `prstate serve`: the webhook receiver on node's own http server. All decisions are in
// receiver-core; this file adapts requests, tracks deliveries in flight, and shuts down
// without losing one: close() stops accepting, lets every delivery being handled finish
// (and every spool write, including one that already got its 503), then closes sockets.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ConfigError, errorMessage, registerSecret } from "../src/errors.js";
import { BodyTooLargeError, DEFAULT_ACK_BUDGET_MS, DEFAULT_MAX_BODY_BYTES, handleDelivery, type DeliveryRequest } from "./receiver-core.js";
import { FileSpool, type Spool, type SpooledEvent } from "./spool.js";
import { loadSubscription, type Subscription } from "./subscription.js";

export interface ReceiverOptions {
  /** 0 or undefined: a free port (see the returned url). */
  port?: number;
  /** Default 127.0.0.1: put a reverse proxy in front rather than exposing node directly. */
  host?: string;
  secret?: string;
  spoolDir: string;
  maxBodyBytes?: number;
  subscription?: Subscription;
  ackBudgetMs?: number;
  /** Replaces the FileSpool on spoolDir (tests use a deliberately slow one). */
  spool?: Spool;
  log?: (line: string) => void;
}

export interface RunningReceiver {
  url: string;
  close(): Promise<void>;
}

/** Seconds a client may take to send one request; keeps slow-loris clients from piling up. */
const REQUEST_TIMEOUT_MS = 30_000;

function adapt(req: IncomingMessage): DeliveryRequest {
  return {
    header: (name) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    },
    readBody: (limit) =>
      new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let done = false;
        req.on("data", (chunk: Buffer) => {
          if (done) return;
          size += chunk.length;
          if (size > limit) {
            done = true;
            // Stop buffering; node discards the rest after the 413 is sent.
            chunks.length = 0;
            reject(new BodyTooLargeError(`body over ${limit} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        req.on("end", () => {
          if (!done) {
            done = true;
            resolve(Buffer.concat(chunks, size));
          }
        });
        req.on("error", (err) => {
          if (!done) {
            done = true;
            reject(err);
          }
        });
        req.on("close", () => {
          // Closed before "end": the client went away mid-body.
          if (!done) {
            done = true;
            reject(new Error("client aborted the request"));
          }
        });
      }),
  };
}

export async function startReceiver(opts: ReceiverOptions): Promise<RunningReceiver> {
  if (opts.secret !== undefined) {
    if (opts.secret === "") throw new ConfigError("webhook secret is empty (unset it to accept unsigned deliveries)");
    registerSecret(opts.secret);
  }
  if (opts.port !== undefined && !(Number.isInteger(opts.port) && opts.port >= 0 && opts.port <= 65535)) throw new ConfigError(`port: expected 0..65535, got ${opts.port}`);
  if (opts.maxBodyBytes !== undefined && !(Number.isInteger(opts.maxBodyBytes) && opts.maxBodyBytes > 0)) throw new ConfigError(`maxBodyBytes: expected a positive integer`);
  if (opts.ackBudgetMs !== undefined && !(opts.ackBudgetMs > 0 && opts.ackBudgetMs < 10_000)) throw new ConfigError(`ackBudgetMs: expected between 0 and GitHub's 10000 ms`);
  const log = opts.log ?? ((line: string) => process.stderr.write(`prstate serve: ${line}\n`));
  const subscription = opts.subscription ?? loadSubscription();
  const baseSpool = opts.spool ?? new FileSpool(opts.spoolDir);

  // Every spool write, tracked until it settles, so close() never drops one that is under way.
  const writes = new Set<Promise<unknown>>();
  const spool: Spool = {
    write: (ev: SpooledEvent) => {
      const p = baseSpool.write(ev);
      const tracked = p.catch(() => undefined).finally(() => writes.delete(tracked));
      writes.add(tracked);
      return p;
    },
    list: () => baseSpool.list(),
    read: (e) => baseSpool.read(e),
    remove: (e) => baseSpool.remove(e),
    reject: (e) => baseSpool.reject(e),
  };
  const deps = {
    ...(opts.secret !== undefined ? { secret: opts.secret } : {}),
    subscription,
    spool,
    maxBodyBytes: opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    ackBudgetMs: opts.ackBudgetMs ?? DEFAULT_ACK_BUDGET_MS,
    log,
  };

  const inFlight = new Set<Promise<void>>();
  let closing = false;

  const send = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    if (closing) headers.connection = "close";
    if (status === 204 || body === "") {
      res.writeHead(status, headers).end();
    } else {
      res.writeHead(status, { "content-type": "text/plain; charset=utf-8", ...headers }).end(body + "\n");
    }
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && (path === "/healthz" || path === "/")) return send(res, 200, "ok");
    if (req.method !== "POST") return send(res, 405, "POST webhook deliveries here", { allow: "POST" });
    if (closing) return send(res, 503, "shutting down; redeliver this delivery");
    const work = handleDelivery(adapt(req), deps)
      .then(
        (r) => send(res, r.status, r.body, r.status === 413 ? { connection: "close" } : {}),
        (err) => {
          log(`500 internal error: ${errorMessage(err)}`);
          send(res, 500, "internal error");
        },
      )
      .finally(() => inFlight.delete(work));
    inFlight.add(work);
  });
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.headersTimeout = Math.min(REQUEST_TIMEOUT_MS, 20_000);

  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) => reject(new ConfigError(`cannot listen on ${host}:${opts.port ?? 0}: ${errorMessage(err)}`)));
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const url = `http://${addr.family === "IPv6" ? `[${addr.address}]` : addr.address}:${addr.port}/`;
  log(`listening on ${url} (${opts.secret !== undefined ? "signature required" : "WARNING: no secret, unsigned deliveries accepted"}; spool ${opts.spool ? "custom" : opts.spoolDir})`);

  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      closing = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Deliveries being handled answer (keep-alive sockets get `connection: close`), and
      // every write that was started completes, even one whose client already got a 503.
      while (inFlight.size > 0 || writes.size > 0) await Promise.allSettled([...inFlight, ...writes]);
      server.closeIdleConnections();
      server.closeAllConnections();
      await stopped;
      log("stopped");
    })());
  return { url, close };
}
