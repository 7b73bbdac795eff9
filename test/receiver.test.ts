// The webhook receiver through a real HTTP server on 127.0.0.1: signatures, size and shape
// checks, subscription, duplicate deliveries, a slow disk, a concurrent drain, and a clean
// shutdown that keeps every delivery already being stored.
import test from "ava";
import { get, request } from "node:http";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { createHmac, randomUUID } from "node:crypto";
import { startReceiver, type ReceiverOptions } from "../hooks/http-receiver.js";
import { signBody } from "../hooks/receiver-core.js";
import { FileSpool, type Spool, type SpooledEvent } from "../hooks/spool.js";
import { drainSpool } from "../hooks/drain-spool.js";
import { loadSubscription } from "../hooks/subscription.js";
import { fakeHeadSha, generateBurst, sendDelivery, webhookPayload, type Delivery } from "../hooks/event-burst.js";
import { reducePayload } from "../src/intake/event-to-work.js";
import { listQueue } from "../src/intake/queue-store.js";
import { cleanupTempDirs, initRepo, tempDir } from "./helpers/git-repo.js";

test.after.always(cleanupTempDirs);

const SECRET = "It's a Secret to Everybody";

interface Answer {
  status: number;
  body: string;
  ms: number;
  headers: Record<string, string | string[] | undefined>;
}

/** A raw POST: exact bytes and headers, optionally chunked (no Content-Length). */
function post(url: string, body: string | Buffer, headers: Record<string, string>, opts: { chunked?: boolean } = {}): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const buf = Buffer.isBuffer(body) ? body : Buffer.from(body);
    const req = request(url, { method: "POST", headers: opts.chunked ? headers : { ...headers, "content-length": String(buf.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString("utf8").trim(), ms: performance.now() - started, headers: res.headers }));
    });
    req.on("error", reject);
    if (opts.chunked) {
      // Several writes so the body really arrives in chunks.
      for (let i = 0; i < buf.length; i += 256) req.write(buf.subarray(i, i + 256));
      req.end();
    } else req.end(buf);
  });
}

// node:http rather than fetch: fetch's first call compiles undici, which would stall the
// event loop in the middle of a timing check.
function getStatus(url: URL): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode!));
    }).on("error", reject);
  });
}

function headersFor(event: string, deliveryId: string, body: string, secret: string | undefined = SECRET): Record<string, string> {
  const h: Record<string, string> = { "content-type": "application/json", "x-github-event": event, "x-github-delivery": deliveryId };
  if (secret !== undefined) h["x-hub-signature-256"] = signBody(secret, body);
  return h;
}

async function receiver(opts: Partial<ReceiverOptions> = {}) {
  const spoolDir = opts.spoolDir ?? (await tempDir("prstate-spool-"));
  const lines: string[] = [];
  const r = await startReceiver({ secret: SECRET, spoolDir, log: (l) => lines.push(l), ...opts });
  return { ...r, spoolDir, lines };
}

async function spooled(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => n.endsWith(".json")).sort();
  } catch {
    return [];
  }
}

const labeled = (pr: number) => webhookPayload("pull_request", "labeled", { pr, headSha: fakeHeadSha(pr) });

/** A spool whose writes take `delayMs` (a slow or overloaded disk), counting writes started. */
class SlowSpool implements Spool {
  started = 0;
  finished = 0;
  constructor(
    readonly inner: FileSpool,
    public delayMs: number,
  ) {}
  async write(ev: SpooledEvent) {
    this.started++;
    await new Promise((r) => setTimeout(r, this.delayMs));
    try {
      return await this.inner.write(ev);
    } finally {
      this.finished++;
    }
  }
  list() {
    return this.inner.list();
  }
  read(e: Parameters<Spool["read"]>[0]) {
    return this.inner.read(e);
  }
  remove(e: Parameters<Spool["remove"]>[0]) {
    return this.inner.remove(e);
  }
  reject(e: Parameters<Spool["reject"]>[0]) {
    return this.inner.reject(e);
  }
}

test("a correctly signed delivery is stored durably, reduced, and only then answered 202", async (t) => {
  const r = await receiver();
  t.teardown(r.close);
  const body = JSON.stringify(labeled(23100));
  const id = randomUUID();
  const a = await post(r.url, body, headersFor("pull_request", id, body));
  t.is(a.status, 202);
  t.deepEqual(await spooled(r.spoolDir), [`${id}.json`], "stored before the answer");
  const stored = JSON.parse(await readFile(join(r.spoolDir, `${id}.json`), "utf8"));
  t.like(stored, { deliveryId: id, event: "pull_request", action: "labeled" });
  t.deepEqual(stored.payload, reducePayload("pull_request", JSON.parse(body)));
  t.false(JSON.stringify(stored).includes("xxxxxxxx"), "the PR body is not spooled");
  t.false(r.lines.join("\n").includes(SECRET), "the secret is never logged");
});

test("signature: wrong, absent, sha1 and malformed signatures get 401 and nothing is stored", async (t) => {
  const r = await receiver();
  t.teardown(r.close);
  const body = JSON.stringify(labeled(5));
  const base = { "content-type": "application/json", "x-github-event": "pull_request", "x-github-delivery": randomUUID() };
  const sha1 = `sha1=${createHmac("sha1", SECRET).update(body).digest("hex")}`;
  const cases: [string, Record<string, string>][] = [
    ["wrong secret", { ...base, "x-hub-signature-256": signBody("another secret", body) }],
    ["absent", base],
    ["sha1 only", { ...base, "x-hub-signature": sha1 }],
    ["sha1 in the sha256 header", { ...base, "x-hub-signature-256": sha1 }],
    ["truncated", { ...base, "x-hub-signature-256": signBody(SECRET, body).slice(0, 40) }],
    ["signature of another body", { ...base, "x-hub-signature-256": signBody(SECRET, body + " ") }],
  ];
  for (const [name, headers] of cases) t.is((await post(r.url, body, headers)).status, 401, name);
  t.deepEqual(await spooled(r.spoolDir), []);
  // The signature covers the raw bytes: the same JSON re-serialised differently fails.
  const pretty = JSON.stringify(JSON.parse(body), null, 2);
  t.is((await post(r.url, pretty, { ...base, "x-hub-signature-256": signBody(SECRET, body) })).status, 401);
  t.is((await post(r.url, pretty, { ...base, "x-hub-signature-256": signBody(SECRET, pretty) })).status, 202);
});

test("without a secret, unsigned deliveries are accepted (and the receiver warns at start)", async (t) => {
  const r = await receiver({ secret: undefined });
  t.teardown(r.close);
  const body = JSON.stringify(labeled(5));
  t.is((await post(r.url, body, headersFor("pull_request", "u-1", body, undefined))).status, 202);
  t.true(r.lines.some((l) => l.includes("no secret")));
});

test("oversized bodies get 413, by Content-Length and while reading a chunked body", async (t) => {
  const r = await receiver({ maxBodyBytes: 2048 });
  t.teardown(r.close);
  const big = JSON.stringify({ ...labeled(5), filler: "y".repeat(4000) });
  t.is((await post(r.url, big, headersFor("pull_request", "big-1", big))).status, 413);
  const chunked = await post(r.url, big, headersFor("pull_request", "big-2", big), { chunked: true });
  t.is(chunked.status, 413);
  t.is(chunked.headers.connection, "close");
  t.deepEqual(await spooled(r.spoolDir), []);
  const small = JSON.stringify(labeled(5));
  t.is((await post(r.url, small, headersFor("pull_request", "small", small), { chunked: true })).status, 202, "a chunked body under the cap is fine");
});

test("malformed JSON and missing GitHub headers get 400", async (t) => {
  const r = await receiver();
  t.teardown(r.close);
  const cases: [string, string, Record<string, string>][] = [
    ["not JSON", "{\"action\":", headersFor("pull_request", "m1", "{\"action\":")],
    ["JSON array", "[1]", headersFor("pull_request", "m2", "[1]")],
    ["no event header", "{}", (({ "x-github-event": _e, ...h }) => h)(headersFor("pull_request", "m3", "{}"))],
    ["no delivery header", "{}", (({ "x-github-delivery": _d, ...h }) => h)(headersFor("pull_request", "m4", "{}"))],
    ["odd event header", "{}", headersFor("pull request; rm -rf", "m5", "{}")],
    ["form body without payload", "x=1", { ...headersFor("pull_request", "m6", "x=1"), "content-type": "application/x-www-form-urlencoded" }],
  ];
  for (const [name, body, headers] of cases) t.is((await post(r.url, body, headers)).status, 400, name);
  t.deepEqual(await spooled(r.spoolDir), []);
  const form = `payload=${encodeURIComponent(JSON.stringify(labeled(9)))}`;
  t.is((await post(r.url, form, { ...headersFor("pull_request", "f1", form), "content-type": "application/x-www-form-urlencoded" })).status, 202, "GitHub's form encoding is accepted");
});

test("unsubscribed events, pings and events that can never name a PR get 204 and are not stored", async (t) => {
  const r = await receiver({ subscription: loadSubscription() });
  t.teardown(r.close);
  const send = (event: string, payload: unknown) => {
    const body = JSON.stringify(payload);
    return post(r.url, body, headersFor(event, randomUUID(), body));
  };
  t.is((await send("ping", { zen: "Keep it logically awesome.", hook_id: 1 })).status, 204);
  t.is((await send("pull_request", { ...labeled(5), action: "locked" })).status, 204);
  t.is((await send("issues", { action: "opened", issue: { number: 5 } })).status, 204);
  t.is((await send("issue_comment", { action: "created", issue: { number: 5 }, comment: {} })).status, 204, "a comment on a plain issue");
  t.is((await send("push", { ref: "refs/heads/x", before: "a".repeat(40), after: "b".repeat(40), forced: false })).status, 204, "an ordinary push");
  t.deepEqual(await spooled(r.spoolDir), []);
  t.is((await send("push", { ref: "refs/heads/x", before: "a".repeat(40), after: "b".repeat(40), forced: true })).status, 202);
  t.is((await send("check_suite", webhookPayload("check_suite", "completed", { pr: 5, headSha: fakeHeadSha(5), fork: true }))).status, 202, "a fork PR's CI event is kept for the drain's SHA index");
});

test("a delivery id received several times (at once, and again later) is stored once", async (t) => {
  const r = await receiver();
  t.teardown(r.close);
  const body = JSON.stringify(labeled(7));
  const id = randomUUID();
  const answers = await Promise.all(Array.from({ length: 8 }, () => post(r.url, body, headersFor("pull_request", id, body))));
  t.deepEqual(answers.map((a) => a.status), Array(8).fill(202));
  const later = await post(r.url, body, headersFor("pull_request", id, body));
  t.is(later.status, 202);
  t.regex(later.body, /duplicate/);
  t.deepEqual(await spooled(r.spoolDir), [`${id}.json`]);
  // The same id for a hostile name cannot escape the spool folder.
  const hostile = await post(r.url, body, headersFor("pull_request", "../../escape", body));
  t.is(hostile.status, 202);
  t.is((await spooled(r.spoolDir)).length, 2);
});

test.serial("with a slow disk the receiver answers within 1 s: 503 when the store misses the budget, never 202 for an unstored event", async (t) => {
  const spoolDir = await tempDir("prstate-spool-");
  const slow = new SlowSpool(new FileSpool(spoolDir), 3000);
  const r = await receiver({ spoolDir, spool: slow, ackBudgetMs: 200 });
  let closed = false;
  t.teardown(() => (closed ? undefined : r.close()));
  // One delivery first, so connection set-up and the first compilation of the handler are not measured.
  const warmUp = { deliveryId: randomUUID(), event: "pull_request", payload: labeled(99) };
  t.is((await sendDelivery(r.url, warmUp, SECRET)).status, 503);
  const deliveries = Array.from({ length: 5 }, (_, i) => ({ deliveryId: randomUUID(), event: "pull_request", payload: labeled(100 + i) }));
  const pending = deliveries.map((d) => sendDelivery(r.url, d, SECRET));
  t.is(await getStatus(new URL("/healthz", r.url)), 200, "other requests are answered meanwhile");
  const answers = await Promise.all(pending);
  t.is(slow.finished, 0, "every answer came while its store was still running");
  for (const a of answers) {
    t.is(a.status, 503);
    t.true(a.ms < 1000, `answered in ${a.ms.toFixed(0)} ms`);
  }
  t.deepEqual(await spooled(spoolDir), [], "nothing was on disk when the 503s went out");
  // close() waits for the late writes: GitHub will redeliver, and the redelivery is a duplicate.
  await r.close();
  closed = true;
  t.is((await spooled(spoolDir)).length, 6);

  slow.delayMs = 200;
  const r2 = await receiver({ spoolDir, spool: slow });
  t.teardown(r2.close);
  const redelivered = await sendDelivery(r2.url, deliveries[0]!, SECRET);
  t.is(redelivered.status, 202);
  t.true(redelivered.ms < 1000);
  t.is((await spooled(spoolDir)).length, 6, "the redelivery is stored once");
  const fresh = await sendDelivery(r2.url, { deliveryId: randomUUID(), event: "pull_request", payload: labeled(200) }, SECRET);
  t.is(fresh.status, 202, "a slow store within the budget is acknowledged");
  t.true(fresh.ms < 1000);
});

test.serial("the receiver keeps answering within 1 s while a drain of its spool runs", async (t) => {
  const repo = await initRepo();
  const spoolDir = await tempDir("prstate-spool-");
  const prs = Array.from({ length: 50 }, (_, i) => 30_000 + i);
  const index = new Map(prs.map((n) => [fakeHeadSha(n), n]));
  const backlog = generateBurst({ events: 800, prs, headSha: fakeHeadSha, forks: new Set(prs.slice(0, 5)), seed: 21 });
  const fill = new FileSpool(spoolDir);
  for (const d of backlog) {
    const action = typeof d.payload.action === "string" ? d.payload.action : undefined;
    await fill.write({ deliveryId: d.deliveryId, event: d.event, ...(action ? { action } : {}), receivedAt: new Date().toISOString(), payload: reducePayload(d.event, d.payload) });
  }
  const r = await receiver({ spoolDir });
  t.teardown(r.close);
  let drainDone = false;
  const drain = drainSpool(spoolDir, repo, index).finally(() => (drainDone = true));
  const live: Delivery[] = generateBurst({ events: 40, prs, headSha: fakeHeadSha, seed: 22 });
  let duringDrain = 0;
  let worst = 0;
  for (const d of live) {
    const a = await sendDelivery(r.url, d, SECRET);
    t.is(a.status, 202);
    worst = Math.max(worst, a.ms);
    if (!drainDone) duringDrain++;
  }
  t.true(duringDrain >= 10, `${duringDrain} deliveries were answered while the drain ran`);
  t.true(worst < 1000, `slowest answer ${worst.toFixed(0)} ms`);
  const first = await drain;
  t.true(first.drained >= backlog.length);
  await drainSpool(spoolDir, repo, index);
  t.deepEqual(await spooled(spoolDir), []);
  const queuedIds = new Set((await listQueue(repo)).map((q) => q.deliveryId));
  for (const d of [...backlog, ...live]) t.true(queuedIds.has(d.deliveryId), `${d.event} ${d.deliveryId} reached the queue`);
});

test.serial("close() stops accepting and waits for in-flight deliveries to be stored (SIGTERM-style shutdown)", async (t) => {
  const spoolDir = await tempDir("prstate-spool-");
  const slow = new SlowSpool(new FileSpool(spoolDir), 600);
  const r = await receiver({ spoolDir, spool: slow });
  const deliveries = Array.from({ length: 3 }, (_, i) => ({ deliveryId: randomUUID(), event: "pull_request", payload: labeled(300 + i) }));
  const pending = deliveries.map((d) => sendDelivery(r.url, d, SECRET));
  while (slow.started < 3) await new Promise((res) => setTimeout(res, 10));
  const closing = r.close();
  const answers = await Promise.all(pending);
  t.deepEqual(answers.map((a) => a.status), [202, 202, 202], "deliveries in flight are acknowledged, not cut off");
  await closing;
  t.deepEqual(await spooled(spoolDir), deliveries.map((d) => `${d.deliveryId}.json`).sort());
  await t.throwsAsync(sendDelivery(r.url, deliveries[0]!, SECRET), undefined, "no longer listening");
  await r.close(); // idempotent
});
