// Benchmark of the webhook intake (not a test; numbers are printed, nothing is asserted).
//  1. Acknowledgement latency of `prstate serve` (signed deliveries, signature check, fsync'd
//     spool) at a fixed arrival rate on loopback, beside a bare node http server that answers
//     202 without verifying or storing, under the same load in the same run: the ratio is
//     what durability and verification cost. Also p99 as a fraction of GitHub's 10 s limit.
//  2. Downloads per burst: the deliveries of part 1 are drained into a data repo queue and
//     coalesced; downloads = work items, against a naive one-download-per-event baseline.
//     Plus larger pure bursts through mapEvent + coalesce.
// Usage: node dist/bench/receiver.js [--rate 300] [--seconds 5]
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { startReceiver } from "../hooks/http-receiver.js";
import { drainSpool } from "../hooks/drain-spool.js";
import { fakeHeadSha, generateBurst, sendDelivery, type Delivery } from "../hooks/event-burst.js";
import { coalesce } from "../src/intake/coalesce.js";
import { mapEvent } from "../src/intake/event-to-work.js";
import { listQueue, queuePath, type QueuedItem } from "../src/intake/queue-store.js";

const SECRET = "bench-secret-not-a-real-one";
const GITHUB_LIMIT_MS = 10_000;

export interface LatencyStats {
  count: number;
  errors: number;
  median: number;
  p99: number;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Open-loop load: deliveries start on a fixed schedule whatever the answers' latency. */
async function load(url: string, deliveries: Delivery[], rate: number, secret?: string): Promise<LatencyStats> {
  const interval = 1000 / rate;
  const started = performance.now();
  const results: Promise<number | undefined>[] = [];
  for (let i = 0; i < deliveries.length; i++) {
    const due = started + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    results.push(
      sendDelivery(url, deliveries[i]!, secret).then(
        (a) => (a.status === 202 ? a.ms : undefined),
        () => undefined,
      ),
    );
  }
  const ms = await Promise.all(results);
  const ok = ms.filter((m): m is number => m !== undefined).sort((a, b) => a - b);
  return { count: deliveries.length, errors: deliveries.length - ok.length, median: quantile(ok, 0.5), p99: quantile(ok, 0.99) };
}

/** Runs the load from a worker thread, so the client's own work does not queue behind the server's. */
function loadFromWorker(url: string, deliveries: Delivery[], rate: number, secret?: string): Promise<LatencyStats> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { url, deliveries, rate, secret } });
    worker.once("message", (stats: LatencyStats) => resolve(stats));
    worker.once("error", reject);
    worker.once("exit", (code) => (code !== 0 ? reject(new Error(`load worker exited with ${code}`)) : undefined));
  });
}

async function bareServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(202).end("accepted\n"));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function coalescedDownloads(events: number, prCount: number, seed: number): { events: number; queued: number; downloads: number } {
  const prs = Array.from({ length: prCount }, (_, i) => 10_000 + i);
  const index = new Map(prs.map((n) => [fakeHeadSha(n), n]));
  const burst = generateBurst({ events, prs, headSha: fakeHeadSha, forks: new Set(prs.filter((_, i) => i % 7 === 0)), seed });
  const start = Date.parse("2025-01-10T12:00:00Z");
  const items: QueuedItem[] = [];
  burst.forEach((d, i) => {
    const work = mapEvent(d.event, d.payload, index);
    if ("ignored" in work) return;
    for (const pr of work.prs) items.push({ deliveryId: d.deliveryId, event: d.event, receivedAt: new Date(start + i * 50).toISOString(), pr, kind: work.kind, path: queuePath(pr, d.deliveryId) });
  });
  const { ready, waiting } = coalesce(items, new Date(start + events * 50 + 3600_000), 60);
  return { events, queued: items.length, downloads: ready.length + waiting.length };
}

export async function runReceiverBench(opts: { rate?: number; seconds?: number } = {}): Promise<void> {
  const rate = opts.rate ?? 300;
  const seconds = Math.min(opts.seconds ?? 5, 30);
  const total = Math.round(rate * seconds);
  const prs = Array.from({ length: 50 }, (_, i) => 20_000 + i);
  const index = new Map(prs.map((n) => [fakeHeadSha(n), n]));
  const tmp = await mkdtemp(join(tmpdir(), "prstate-bench-"));
  try {
    const spoolDir = join(tmp, "spool");
    const repo = join(tmp, "data-repo");
    const receiver = await startReceiver({ secret: SECRET, spoolDir, log: () => undefined });
    const bare = await bareServer();
    try {
      // Warm both up (JIT, connection pool) before measuring.
      await loadFromWorker(receiver.url, generateBurst({ events: 100, prs, headSha: fakeHeadSha, seed: 99 }), rate, SECRET);
      await loadFromWorker(bare.url, generateBurst({ events: 100, prs, headSha: fakeHeadSha, seed: 98 }), rate, SECRET);
      await drainSpool(spoolDir, join(tmp, "warmup-repo"), index);

      const deliveries = generateBurst({ events: total, prs, headSha: fakeHeadSha, forks: new Set(prs.slice(0, 5)), seed: 1 });
      const base = await loadFromWorker(bare.url, deliveries, rate, SECRET);
      const ours = await loadFromWorker(receiver.url, deliveries, rate, SECRET);
      console.log(`receiver acknowledgement latency: ${total} signed deliveries at ${rate}/s for ${seconds} s on loopback (${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(1)}: compare the ratio, not the raw numbers, across machines)`);
      console.log(`  prstate serve (verify + fsync'd spool): median ${ours.median.toFixed(2)} ms, p99 ${ours.p99.toFixed(2)} ms, non-202 ${ours.errors}`);
      console.log(`  bare http server (no verify, no store): median ${base.median.toFixed(2)} ms, p99 ${base.p99.toFixed(2)} ms, non-202 ${base.errors}`);
      console.log(`  ratio prstate/bare: median ${(ours.median / base.median).toFixed(2)}x, p99 ${(ours.p99 / base.p99).toFixed(2)}x`);
      console.log(`  p99 / GitHub's 10 s limit: ${(ours.p99 / GITHUB_LIMIT_MS).toExponential(2)}`);

      const drained = await drainSpool(spoolDir, repo, index);
      const queue = await listQueue(repo);
      const { ready, waiting } = coalesce(queue, new Date(Date.now() + 3600_000), 60);
      const downloads = ready.length + waiting.length;
      console.log(`downloads per burst (coalesced work items vs one download per event)`);
      console.log(`  served burst: ${total} deliveries -> ${drained.queued.length} queue files, ${drained.ignored.length} dropped -> ${downloads} downloads; naive ${total}: ${(total / downloads).toFixed(1)}x fewer`);
      for (const [events, prCount] of [
        [1000, 50],
        [5000, 300],
        [20000, 500],
      ] as const) {
        const r = coalescedDownloads(events, prCount, events);
        console.log(`  ${events} events over ${prCount} PRs -> ${r.downloads} downloads; naive ${r.events}: ${(r.events / r.downloads).toFixed(1)}x fewer`);
      }
    } finally {
      await receiver.close();
      await bare.close();
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

function arg(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) {
    console.error(`--${name}: expected a positive number`);
    process.exit(2);
  }
  return v;
}

if (!isMainThread) {
  const job = workerData as { url: string; deliveries: Delivery[]; rate: number; secret?: string };
  parentPort!.postMessage(await load(job.url, job.deliveries, job.rate, job.secret));
} else if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rate = arg("rate");
  const seconds = arg("seconds");
  await runReceiverBench({ ...(rate !== undefined ? { rate } : {}), ...(seconds !== undefined ? { seconds } : {}) });
}
