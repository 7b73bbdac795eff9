// One concurrent writer for test/push-concurrency.test.ts, run as its own node process on its
// own clone of a shared bare remote (`node dist/test/helpers/push-writer.js '<json config>'`).
// Each round it waits at a file barrier until every writer is ready (so all pushes of a round
// race for real), then writes like a sync cycle would: a new record of its own, a newer
// version of a record every writer shares, its own attempt file of a shared PR, an entry
// inserted at a random place of missing_prs.txt, and an append to redownload.txt that also
// removes its previous round's entry; it commits with transition trailers and calls
// pushWithRetry. It prints one JSON line per round and exits non-zero on any error.
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildCommitMessage } from "../../src/git/commit-message.js";
import { commitPaths, pushWithRetry } from "../../src/git/push-loop.js";

export interface PushWriterConfig {
  repoDir: string;
  /** 0-based writer index; its PRs are 1000 * (index + 1) + round. */
  index: number;
  writers: number;
  rounds: number;
  barrierDir: string;
  /** A real pr_info.json used as the record template. */
  template: string;
  seed: number;
}

export interface PushWriterRound {
  writer: number;
  round: number;
  commit: string;
  pushed: boolean;
  upToDate: boolean;
  tries: number;
  merges: number;
  conflictsResolved: number;
}

/** The PR number writer `index` creates in `round`. */
export const ownPr = (index: number, round: number) => 1000 * (index + 1) + round;
/** The number writer `index` inserts into missing_prs.txt in `round`. */
export const missingEntry = (index: number, round: number) => ownPr(index, round) + 500;
/** updatedAt of the shared record data/1 as writer `index` writes it in `round`: grows with every write. */
export const sharedUpdatedAt = (index: number, round: number, writers: number) =>
  new Date(Date.UTC(2025, 0, 1) + (round * writers + index) * 60_000).toISOString().replace(/\.000Z$/, "Z");

function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

async function put(repo: string, path: string, content: string): Promise<void> {
  await mkdir(dirname(join(repo, path)), { recursive: true });
  await writeFile(join(repo, path), content);
}

async function barrier(dir: string, round: number, index: number, writers: number): Promise<void> {
  await writeFile(join(dir, `r${round}-w${index}`), "");
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ready = (await readdir(dir)).filter((n) => n.startsWith(`r${round}-`)).length;
    if (ready >= writers) return;
    if (Date.now() > deadline) throw new Error(`barrier of round ${round} timed out (${ready}/${writers})`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function recordText(template: string, pr: number, updatedAt: string): string {
  const doc = JSON.parse(template);
  doc.data.repository.pullRequest.number = pr;
  doc.data.repository.pullRequest.updatedAt = updatedAt;
  return `${JSON.stringify(doc, null, 2)}\n`;
}

async function readLines(repo: string, path: string): Promise<string[]> {
  return existsSync(join(repo, path)) ? (await readFile(join(repo, path), "utf8")).split("\n").filter((l) => l !== "") : [];
}

async function round(cfg: PushWriterConfig, r: number, rand: () => number, template: string): Promise<PushWriterRound> {
  const repo = cfg.repoDir;
  const writer = `writer-${cfg.index}`;
  const now = new Date(Date.UTC(2025, 1, 1) + (r * cfg.writers + cfg.index) * 1000).toISOString();
  const pr = ownPr(cfg.index, r);
  const paths = [`data/${pr}`, "data/1", "missing_prs.txt", "redownload.txt", `state/attempts/2`];

  await put(repo, `data/${pr}/pr_info.json`, recordText(template, pr, now.replace(/\.\d{3}Z$/, "Z")));
  await put(repo, `data/${pr}/pr_reactions.json`, `${JSON.stringify({ data: { repository: { pullRequest: { number: pr } } } }, null, 2)}\n`);
  await put(repo, `data/${pr}/timestamp.txt`, `${now.replace(/\.\d{3}Z$/, "Z")}\n`);

  // The shared record: only ever replaced by a newer one (what sync guarantees).
  const shared = sharedUpdatedAt(cfg.index, r, cfg.writers);
  const current = JSON.parse(await readFile(join(repo, "data/1/pr_info.json"), "utf8")).data.repository.pullRequest.updatedAt as string;
  if (Date.parse(shared) > Date.parse(current)) {
    await put(repo, "data/1/pr_info.json", recordText(template, 1, shared));
    await put(repo, "data/1/timestamp.txt", `${shared}\n`);
  }

  await put(repo, `state/attempts/2/${now.replace(/:/g, "-")}-${writer}.json`, `${JSON.stringify({ at: now, writer, errorClass: "TimeoutError", query: "full" }, null, 2)}\n`);

  const missing = await readLines(repo, "missing_prs.txt");
  missing.splice(Math.floor(rand() * (missing.length + 1)), 0, String(missingEntry(cfg.index, r)));
  await put(repo, "missing_prs.txt", `${missing.join("\n")}\n`);
  const redownload = (await readLines(repo, "redownload.txt")).filter((l) => l !== String(ownPr(cfg.index, r - 1)));
  redownload.push(String(pr));
  await put(repo, "redownload.txt", `${redownload.join("\n")}\n`);

  const message = buildCommitMessage([
    { pr, from: "missing", to: "fresh", reason: `round ${r} download`, writer },
    { pr: 2, from: `failing(${r})`, to: `failing(${r + 1})`, reason: "timeout", writer },
  ]);
  const commit = await commitPaths(repo, paths, message);
  if (commit === null) throw new Error(`round ${r}: nothing to commit`);
  const result = await pushWithRetry({ repoDir: repo, writer, baseDelayMs: 20, maxDelayMs: 500 });
  return { writer: cfg.index, round: r, commit, ...result };
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2] ?? "") as PushWriterConfig;
  const template = readFileSync(cfg.template, "utf8");
  const rand = random(cfg.seed);
  for (let r = 0; r < cfg.rounds; r++) {
    await barrier(cfg.barrierDir, r, cfg.index, cfg.writers);
    process.stdout.write(`${JSON.stringify(await round(cfg, r, rand, template))}\n`);
  }
}

// Run only as a script: the test imports the numbering helpers above.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    process.stderr.write(`push-writer failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  });
}
