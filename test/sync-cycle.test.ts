// The main job end to end: `runCycle` on a real clone of a bare data repo, against the real
// GitHub simulator over HTTP, with the real client. Every test checks what landed on the
// remote (through a fresh clone): exact records, lists, attempt and queue files, the watermark
// and the commit that carries them.
//
// 1. one cycle on the recorded fixtures: records valid and stamped, lists emptied, trailers
// 2. the missing-list removal happens in the commit that adds the data; comments survive
// 3. a PR that always 502s blocks nothing; it keeps its good record and gets an attempt file
// 4. polling: a scheduled run an hour late walks every page back to the watermark, and the
//    watermark never passes an update that was not committed (budget, a PR moving pages
//    during the walk, an answer older than the listing); the next cycle gets the rest
// 5. webhook queue: one download per PR, queue files go in the data's commit, debounce, the
//    basic query spliced only when safe, the receiver's spool drained into the queue
// 6. the rate-limit reserve, an exhausted limit and a refused token stop the cycle cleanly,
//    commit what was downloaded, and count no attempt
// 7. the CLI: --dry-run changes nothing (not even a leftover temp folder); in Actions,
//    --json keeps stdout one JSON document
import test, { type ExecutionContext } from "ava";
import { execFile } from "node:child_process";
import { cp, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig, type Config } from "../src/config/config.js";
import { AuthError } from "../src/errors.js";
import { createGitHub } from "../src/github/client.js";
import type { GitHub } from "../src/github/github.js";
import { prHistory } from "../src/git/history.js";
import { install } from "../src/install/install.js";
import { enqueueEvent, type QueueEntry } from "../src/intake/queue-store.js";
import { GitHubSimulator, type GitHubSimulatorOptions } from "../src/simulator/github-simulator.js";
import { scanRepo } from "../src/store/repo-scan.js";
import { validRecord } from "../src/state/pr-state.js";
import { runCycle, type CycleOptions, type CycleReport } from "../src/sync/run-cycle.js";
import { startReceiver } from "../hooks/http-receiver.js";
import { sendDelivery, webhookPayload } from "../hooks/event-burst.js";
import { cleanupTempDirs, cloneRepo, commitAll, git, GIT_ENV, initBareRemote, readText, tempDir, writeFiles } from "./helpers/git-repo.js";

test.after.always(cleanupTempDirs);

const FIXTURES = fileURLToPath(new URL("../../fixtures/", import.meta.url));
const MAIN = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const REPOSITORY = "leanprover-community/mathlib4";

// ------------------------------------------------------------------------------ helpers

interface World {
  sim: GitHubSimulator;
  url: string;
  bare: string;
  /** The writer's clone (driver installed), where runCycle works. */
  clone: string;
  /** The remote's head before the test's cycles. */
  seed: string;
  gh: GitHub;
  cfg: Config;
}

interface WorldOptions {
  sim?: GitHubSimulatorOptions;
  /** Serve only these fixture folders (plus `sim.generate` PRs cloned from them); default all. */
  only?: string[];
  /** prstate.yaml lines after `repository:`. */
  yaml?: string[];
  /** The data repo's files, given the started simulator. */
  files: (sim: GitHubSimulator) => Record<string, string | Buffer> | Promise<Record<string, string | Buffer>>;
}

/** A fixtures folder with only some of the recorded PRs, so a test knows every PR the simulator serves. */
async function fixtureSubset(names: string[]): Promise<string> {
  const dir = await tempDir("prstate-fixtures-");
  for (const n of names) await cp(join(FIXTURES, "data", n), join(dir, "data", n), { recursive: true });
  return dir;
}

/** The recorded files of fixture folders, as the data repo stores them. */
async function fixtureRecords(names: string[]): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {};
  for (const n of names) {
    for (const file of await readdir(join(FIXTURES, "data", n))) out[`data/${n}/${file}`] = await readFile(join(FIXTURES, "data", n, file));
  }
  return out;
}

/** Records of PRs exactly as the simulator serves them now (an in-sync data repo). */
function servedRecords(sim: GitHubSimulator, prs: number[], fetchedAt: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pr of prs) {
    const view = sim.get(pr)!;
    out[`data/${pr}/pr_info.json`] = `${JSON.stringify(view.prInfo, null, 2)}\n`;
    out[`data/${pr}/pr_reactions.json`] = `${JSON.stringify(view.reactions, null, 2)}\n`;
    out[`data/${pr}/timestamp.txt`] = `${fetchedAt}\n`;
  }
  return out;
}

/** `data.repository.pullRequest` of a GraphQL response document. */
const pullRequestOf = (doc: unknown) => (doc as { data: { repository: { pullRequest: Record<string, unknown> } } }).data.repository.pullRequest;

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
const watermark = (updatedAt: string) => `${JSON.stringify({ updatedAt, writer: "seed" }, null, 2)}\n`;

async function makeWorld(t: ExecutionContext, o: WorldOptions): Promise<World> {
  const fixturesDir = o.only ? await fixtureSubset(o.only) : undefined;
  const sim = new GitHubSimulator({ ...(fixturesDir ? { fixturesDir } : {}), ...o.sim });
  const url = await sim.start();
  t.teardown(() => sim.stop());
  const bare = await initBareRemote({
    "prstate.yaml": [`repository: ${REPOSITORY}`, ...(o.yaml ?? [])].join("\n") + "\n",
    ...(await o.files(sim)),
  });
  const clone = await cloneRepo(bare);
  await install(clone);
  const seed = (await git(bare, ["rev-parse", "refs/heads/main"])).stdout.trim();
  const gh = createGitHub({ repository: REPOSITORY, apiUrl: url, minWriteIntervalMs: 0, retryBaseDelayMs: 20 });
  return { sim, url, bare, clone, seed, gh, cfg: await loadConfig(clone) };
}

function cycle(w: World, extra: Partial<CycleOptions> = {}): Promise<CycleReport> {
  return runCycle({ repoDir: w.clone, github: w.gh, config: w.cfg, writer: "w1", pushOptions: { baseDelayMs: 20 }, ...extra });
}

const sorted = (ns: Iterable<number>) => [...ns].sort((a, b) => a - b);
const downloadedPrs = (r: CycleReport) => sorted(r.downloaded.map((d) => d.pr));
const failedPrs = (r: CycleReport) => sorted(r.failed.map((f) => f.pr));

async function remoteHead(bare: string): Promise<string> {
  return (await git(bare, ["rev-parse", "refs/heads/main"])).stdout.trim();
}

/** Paths a (non-merge) commit changed, with git's status letter. */
async function changedIn(dir: string, commit: string): Promise<Map<string, string>> {
  const out = (await git(dir, ["show", "--no-renames", "--name-status", "--format=", commit])).stdout;
  return new Map(out.trim().split("\n").filter(Boolean).map((l) => {
    const [status, path] = l.split("\t");
    return [path!, status!];
  }));
}

async function treeFiles(dir: string, rev: string, prefix: string): Promise<string[]> {
  return (await git(dir, ["ls-tree", "-r", "--name-only", rev, "--", prefix])).stdout.split("\n").filter(Boolean);
}

/** Entries (PR numbers) of a list file in a clone, in file order. */
async function entries(dir: string, list: string): Promise<number[]> {
  let text = "";
  try {
    text = await readText(dir, list);
  } catch {
    return [];
  }
  return text.split("\n").map((l) => l.trim()).filter((l) => /^\d+$/.test(l)).map(Number);
}

/** PR N's full record in `dir` is valid, is what the simulator serves, and is stamped with its fetch time. */
async function assertServedRecord(t: ExecutionContext, dir: string, sim: GitHubSimulator, pr: number): Promise<void> {
  const f = (await scanRepo(dir, { only: [pr] })).prs.get(pr)!;
  t.truthy(f.full?.valid && validRecord(f), `#${pr}: valid full record`);
  t.is(f.basic, undefined, `#${pr}: no basic record next to it`);
  const info = JSON.parse(await readText(dir, `data/${pr}/pr_info.json`));
  const reactions = JSON.parse(await readText(dir, `data/${pr}/pr_reactions.json`));
  const stamp = await readText(dir, `data/${pr}/timestamp.txt`);
  const served = sim.get(pr)!;
  t.deepEqual(info.data.repository.pullRequest, pullRequestOf(served.prInfo), `#${pr}: the served pull request`);
  t.deepEqual(reactions.data.repository.pullRequest, pullRequestOf(served.reactions), `#${pr}: the served reactions`);
  t.regex(stamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$/, `#${pr}: timestamp.txt`);
  t.is(info.prstate?.fetchedAt, stamp.trim(), `#${pr}: pr_info.json stamped with the fetch time`);
  t.is(reactions.prstate?.fetchedAt, stamp.trim(), `#${pr}: pr_reactions.json stamped with the fetch time`);
}

async function attemptFiles(dir: string, pr: number): Promise<string[]> {
  try {
    return (await readdir(join(dir, "state", "attempts", String(pr)))).sort();
  } catch {
    return [];
  }
}

// ------------------------------------------------------------------------------ 1. the cycle

test("one cycle on the recorded fixtures: every downloaded record reaches the remote valid and stamped, with trailers", async (t) => {
  const w = await makeWorld(t, {
    files: async (sim) => {
      // GitHub now serves a later, force-pushed version of 19055 than the data repo holds.
      sim.replaceDocs(19055, { prInfo: JSON.parse(await readFile(join(FIXTURES, "versions/19055/pr_info.4d3543b9.json"), "utf8")) });
      return {
        ...(await fixtureRecords(["20000", "23000", "19055", "4197-basic"])),
        "missing_prs.txt": "-- open PRs first\n23100\n10024\n",
        "closed_prs_to_backfill.txt": "-- closed PRs, not downloaded yet\n15000\n1388\n",
        "stubborn_prs.txt": "4197\n",
        "state/watermark.json": watermark("2024-11-01T00:00:00Z"),
      };
    },
  });
  const r = await cycle(w);

  t.deepEqual(downloadedPrs(r), [1388, 10024, 15000, 19055, 23100]);
  // The periodic stubborn retry tries 4197's full query, which GitHub cannot answer: reported, not counted.
  t.deepEqual(r.failed.map((f) => [f.pr, f.errorClass, f.attempts]), [[4197, "ServerError", 0]]);
  t.is(r.stoppedEarly, undefined);
  t.deepEqual(r.poll, { since: "2024-11-01T00:00:00Z", listed: 4, hits: 2, complete: true });
  t.deepEqual(r.watermark, { from: "2024-11-01T00:00:00Z", to: "2025-03-19T20:47:50Z" });
  t.truthy(r.commit);
  t.is(await remoteHead(w.bare), String(r.commit), "pushed: the cycle's commit is the remote head");

  const v = await cloneRepo(w.bare);
  for (const pr of downloadedPrs(r)) await assertServedRecord(t, v, w.sim, pr);
  t.is(await readText(v, "missing_prs.txt"), "-- open PRs first\n");
  t.is(await readText(v, "closed_prs_to_backfill.txt"), "-- closed PRs, not downloaded yet\n");
  t.is(await readText(v, "stubborn_prs.txt"), "4197\n");
  t.deepEqual(JSON.parse(await readText(v, "state/watermark.json")), {
    updatedAt: "2025-03-19T20:47:50Z",
    writer: "w1",
    open: w.sim.prs().filter((p) => p.state === "open").map((p) => p.number).sort((a, b) => a - b),
  });
  t.deepEqual(await treeFiles(v, "HEAD", "state/attempts"), [], "a failed stubborn retry leaves no attempt file");
  t.deepEqual(Object.keys(JSON.parse(await readText(v, "state/checks.json"))).sort(), ["paranoid", "stubbornRetry"], "both periodic jobs ran");
  t.is((await git(v, ["diff", "--name-only", w.seed, "HEAD", "--", "data/4197-basic", "data/20000", "data/23000"])).stdout, "", "untouched records");

  // The audit trail, read with plain git and with prHistory.
  const message = (await git(v, ["log", "-1", "--format=%B", r.commit!])).stdout;
  t.true(message.includes("Prstate-PR: 23100\nPrstate-Transition: missing -> fresh\nPrstate-Reason: download of missing PR succeeded\nPrstate-Writer: w1"));
  t.true(message.includes("Prstate-PR: 15000\nPrstate-Transition: missing -> fresh\nPrstate-Reason: backfill download succeeded\nPrstate-Writer: w1"));
  t.true(message.includes("Prstate-PR: 19055\nPrstate-Transition: outdated -> fresh\nPrstate-Reason: re-download succeeded\nPrstate-Writer: w1"));
  for (const pr of downloadedPrs(r)) {
    const grep = (await git(v, ["log", "--format=%H", `--grep=^Prstate-PR: ${pr}$`])).stdout.trim();
    t.is(grep, String(r.commit), `git log finds #${pr}'s transition in the cycle's commit`);
    const history = await prHistory(v, pr);
    t.true(history.length >= 1 && history.every((h) => h.commit === r.commit && h.transition.writer === "w1"), `prHistory(${pr})`);
    t.is(history.find((h) => h.transition.to === "fresh")?.transition.from, pr === 19055 ? "outdated" : "missing");
  }
  t.deepEqual(await prHistory(v, 20000), [], "a PR that did not move has no history");
});

// ------------------------------------------------------------------------------ 2. lists

test("downloaded PRs leave missing_prs.txt / closed_prs_to_backfill.txt in the commit that adds their data; comments, CRLF and failing entries stay", async (t) => {
  const w = await makeWorld(t, {
    files: async () => ({
      ...(await fixtureRecords(["20000", "23000", "19055"])),
      // CRLF, a blank line, a duplicate, comments; 4197 and 12234 have no full data on GitHub (502).
      "missing_prs.txt": "-- open PRs first, kept by hand\r\n23100\r\n\r\n10024\r\n4197\r\n-- 23100 asked for by the dashboard team\r\n23100\r\n",
      // No final newline; 12234 fails.
      "closed_prs_to_backfill.txt": "-- closed PRs, not downloaded yet\n15000\n1388\n-- 12234: huge, try later\n12234",
      "state/watermark.json": watermark("2026-01-01T00:00:00Z"),
    }),
  });
  const r = await cycle(w);
  t.deepEqual(downloadedPrs(r).filter((n) => n !== 19055), [1388, 10024, 15000, 23100]);
  t.deepEqual(failedPrs(r), [4197, 12234]);

  const v = await cloneRepo(w.bare);
  t.is(await readText(v, "missing_prs.txt"), "-- open PRs first, kept by hand\r\n\r\n4197\r\n-- 23100 asked for by the dashboard team\r\n");
  t.is(await readText(v, "closed_prs_to_backfill.txt"), "-- closed PRs, not downloaded yet\n-- 12234: huge, try later\n12234");

  // One commit on top of the seed holds the list edits, the new records and the attempt files.
  t.is((await git(v, ["rev-list", "--count", `${w.seed}..HEAD`])).stdout.trim(), "1");
  const changed = await changedIn(v, r.commit!);
  t.is(changed.get("missing_prs.txt"), "M");
  t.is(changed.get("closed_prs_to_backfill.txt"), "M");
  for (const pr of [1388, 10024, 15000, 23100]) {
    for (const file of ["pr_info.json", "pr_reactions.json", "timestamp.txt"]) t.is(changed.get(`data/${pr}/${file}`), "A", `data/${pr}/${file} added`);
    await assertServedRecord(t, v, w.sim, pr);
  }
  for (const pr of [4197, 12234]) {
    const files = await attemptFiles(v, pr);
    t.is(files.length, 1, `#${pr}: one attempt file`);
    t.is(changed.get(`state/attempts/${pr}/${files[0]}`), "A");
    const attempt = JSON.parse(await readText(v, `state/attempts/${pr}/${files[0]}`));
    t.like(attempt, { errorClass: "ServerError", query: "full", writer: "w1" });
  }
  // The list, as committed before this commit, still named the downloaded PRs: no separate clean-up commit.
  t.true((await git(v, ["show", `${r.commit}^:missing_prs.txt`])).stdout.includes("23100"));
});

// ------------------------------------------------------------------------------ 3. a 502 PR

test("a PR whose full query always 502s blocks nothing: the others are committed in the same cycle, it keeps its good record", async (t) => {
  const w = await makeWorld(t, {
    only: ["20000", "23000"],
    sim: { generate: 8, seed: 11 },
    files: async (sim) => {
      const gen = sim.prs().filter((p) => p.number > 23000);
      return {
        ...(await fixtureRecords(["20000", "23000"])),
        "missing_prs.txt": `${gen.filter((p) => p.state === "open").map((p) => p.number).join("\n")}\n`,
        "closed_prs_to_backfill.txt": `${gen.filter((p) => p.state === "closed").map((p) => p.number).join("\n")}\n`,
        "redownload.txt": "20000\n",
        "state/watermark.json": watermark(iso(sim.clock.now())),
      };
    },
  });
  const open = w.sim.prs().filter((p) => p.number > 23000 && p.state === "open").map((p) => p.number);
  const closed = w.sim.prs().filter((p) => p.number > 23000 && p.state === "closed").map((p) => p.number);
  t.is(open.length, 4);
  t.is(closed.length, 4);
  const huge = open[1]!;
  // GitHub's answer to a PR with very many commits: a 502 after a while, every time.
  for (const pr of [huge, 20000]) w.sim.fault({ kind: "server-error", pr, query: "full", delayMs: 150 });
  const before20000 = await readText(w.clone, "data/20000/pr_info.json");

  const r = await cycle(w);
  const others = sorted([...open, ...closed].filter((n) => n !== huge));
  t.deepEqual(downloadedPrs(r), others);
  t.deepEqual(r.failed.map((f) => [f.pr, f.errorClass, f.attempts]).sort((a, b) => Number(a[0]) - Number(b[0])), [[20000, "ServerError", 1], [huge, "ServerError", 1]]);
  t.true(w.sim.requestsFor(huge).full >= 1 && w.sim.requestsFor(huge).full <= 3, "bounded retries of the 502");
  t.is(w.sim.requestsFor(huge).reactions, 0);

  const v = await cloneRepo(w.bare);
  t.is(await remoteHead(w.bare), String(r.commit));
  const changed = await changedIn(v, r.commit!);
  for (const pr of others) {
    t.is(changed.get(`data/${pr}/pr_info.json`), "A", `#${pr} committed in the cycle's commit`);
    await assertServedRecord(t, v, w.sim, pr);
  }
  t.is(await readText(v, "data/20000/pr_info.json"), before20000, "the failed re-download kept the good record");
  t.false([...changed.keys()].some((p) => p.startsWith("data/20000/") || p.startsWith(`data/${huge}`)));
  for (const pr of [huge, 20000]) {
    const files = await attemptFiles(v, pr);
    t.is(files.length, 1, `#${pr}: one attempt file`);
    t.true(files[0]!.endsWith("-w1.json"));
    t.is(changed.get(`state/attempts/${pr}/${files[0]}`), "A");
  }
  t.deepEqual(await entries(v, "missing_prs.txt"), [huge]);
  t.deepEqual(await entries(v, "closed_prs_to_backfill.txt"), []);
  t.deepEqual(await entries(v, "redownload.txt"), [20000]);
  t.deepEqual((await treeFiles(v, "HEAD", "data")).filter((p) => p.includes("-temp")), [], "no -temp folder committed");

  // The next cycle right away: both are in backoff, nothing is asked of GitHub for them.
  w.sim.resetCounters();
  const r2 = await cycle(w);
  t.deepEqual(sorted(r2.deferred.map((d) => d.pr)), sorted([huge, 20000]));
  t.deepEqual(r2.downloaded, []);
  t.is(w.sim.requests.graphql, 0);
});

// ------------------------------------------------------------------------------ 4. polling

test("a scheduled run an hour late downloads every PR updated in between; the watermark never passes one it did not download", async (t) => {
  const PRS = 120;
  const t0 = Date.now() - 65 * 60_000;
  const w = await makeWorld(t, {
    only: ["20000", "23000"],
    sim: { generate: PRS, seed: 4, now: t0 },
    yaml: ["budget:", "  maxDownloads: 70"],
    files: async (sim) => ({ ...(await fixtureRecords(["20000", "23000"])), "state/watermark.json": watermark(iso(sim.clock.now())) }),
  });
  // The hour the scheduler skipped: every generated PR changes, 30 s apart.
  const gen = w.sim.prs().filter((p) => p.number > 23000).map((p) => p.number);
  t.is(gen.length, PRS);
  const updatedAt = new Map<number, string>();
  for (const [i, pr] of gen.entries()) {
    w.sim.clock.advance(30_000);
    updatedAt.set(pr, w.sim.update(pr, { commentBody: `late update ${i}` }).updatedAt);
  }
  const newest = iso(t0 + PRS * 30_000);

  w.sim.resetCounters();
  const r1 = await cycle(w);
  t.is(r1.poll.listed, PRS, "the listing reached back to the watermark");
  t.true(r1.poll.complete);
  t.is(r1.poll.hits, PRS);
  t.is(w.sim.requests.restPages, 3, "two pages of updated PRs (100 per page) and one of open PRs");
  t.is(r1.downloaded.length, 70);
  const left = gen.filter((pr) => !r1.downloaded.some((d) => d.pr === pr));
  t.is(left.length, PRS - 70);
  const firstLeft = Math.min(...left.map((pr) => Date.parse(updatedAt.get(pr)!)));
  t.is(r1.watermark.to, iso(firstLeft), "the watermark stops at the oldest update not downloaded");
  const v1 = await cloneRepo(w.bare);
  t.is(JSON.parse(await readText(v1, "state/watermark.json")).updatedAt, iso(firstLeft));

  const r2 = await cycle(w);
  t.is(r2.poll.since, iso(firstLeft));
  t.deepEqual(downloadedPrs(r2), sorted(left), "the next cycle gets exactly the rest");
  t.is(r2.watermark.to, newest);

  const v = await cloneRepo(w.bare);
  for (const pr of gen) {
    const f = (await scanRepo(v, { only: [pr] })).prs.get(pr)!;
    t.is(validRecord(f)?.updatedAt, updatedAt.get(pr), `#${pr} downloaded at its latest update`);
  }
  t.deepEqual(await entries(v, "missing_prs.txt"), [], "open PRs listed as missing by the first cycle were downloaded by the second");
  t.is(JSON.parse(await readText(v, "state/watermark.json")).updatedAt, newest);
});

test("a PR updated while the listing's pages are walked moves to page 1 behind the walk: the watermark stays below it, the next cycle gets it", async (t) => {
  const PRS = 110;
  const t0 = Date.now() - 65 * 60_000;
  const w = await makeWorld(t, {
    only: ["20000", "23000"],
    sim: { generate: PRS, seed: 6, now: t0 },
    yaml: ["budget:", "  maxDownloads: 200"],
    files: async (sim) => ({ ...(await fixtureRecords(["20000", "23000"])), "state/watermark.json": watermark(iso(sim.clock.now())) }),
  });
  const gen = w.sim.prs().filter((p) => p.number > 23000);
  for (const p of gen) {
    w.sim.clock.advance(30_000);
    w.sim.update(p.number, { commentBody: "update in the skipped hour" });
  }
  // A closed PR among the oldest updates (page 2): no integrity check would bring it in.
  const x = gen.slice(0, 5).find((p) => p.state === "closed")!.number;
  let xUpdated = "";
  w.sim.fault({
    kind: "slow",
    path: "/repos/leanprover-community/mathlib4/pulls",
    after: 1, // the second listing request: page 2 of the updated PRs
    times: 1,
    onHit: () => {
      w.sim.clock.advance(1000);
      xUpdated = w.sim.update(x, { labels: ["updated-during-the-walk"] }).updatedAt;
    },
  });
  const r1 = await cycle(w);
  t.truthy(xUpdated);
  t.is(r1.poll.listed, PRS - 1, "x left page 2 for page 1, which was already read");
  t.false(r1.downloaded.some((d) => d.pr === x));
  t.true(Date.parse(r1.watermark.to!) < Date.parse(xUpdated), "the watermark is below x's update");
  const r2 = await cycle(w);
  t.deepEqual(downloadedPrs(r2), [x]);
  t.is(r2.watermark.to, xUpdated);
  const v = await cloneRepo(w.bare);
  await assertServedRecord(t, v, w.sim, x);
});

test("a download older than the listing (GitHub's replicas lag) does not settle the update: the watermark stays, the next cycle gets it", async (t) => {
  const t0 = Date.now() - 10 * 60_000;
  const w = await makeWorld(t, {
    only: ["20000", "23000"],
    sim: { generate: 4, seed: 8, now: t0 },
    files: async (sim) => ({
      ...(await fixtureRecords(["20000", "23000"])),
      ...servedRecords(sim, sim.prs().filter((s) => s.number > 23000).map((s) => s.number), iso(t0)),
      "state/watermark.json": watermark(iso(sim.clock.now())),
    }),
  });
  // Closed PRs: no integrity check looks at them again, only polling can catch a missed update.
  const [p, q] = w.sim.prs().filter((s) => s.number > 23000 && s.state === "closed").map((s) => s.number) as [number, number];
  const before = w.sim.get(p)!.prInfo;
  w.sim.clock.advance(60_000);
  const pUpdated = w.sim.update(p, { commentBody: "late comment" }).updatedAt;
  w.sim.clock.advance(60_000);
  const qUpdated = w.sim.update(q, { commentBody: "another comment" }).updatedAt;
  // The listing already shows p's update; the GraphQL answer still has the state before it.
  w.sim.fault({ kind: "status", status: 200, pr: p, query: "full", times: 1, body: before });

  const r1 = await cycle(w);
  t.deepEqual(downloadedPrs(r1), sorted([p, q]));
  t.is(r1.watermark.to, pUpdated, "not past p's update, which the download did not bring");
  const r2 = await cycle(w);
  t.deepEqual(downloadedPrs(r2), [p]);
  t.is(r2.watermark.to, qUpdated);
  const v = await cloneRepo(w.bare);
  await assertServedRecord(t, v, w.sim, p);
  t.is(JSON.parse(await readText(v, `data/${p}/pr_info.json`)).data.repository.pullRequest.updatedAt, pUpdated);
});

// ------------------------------------------------------------------------------ 5. queue

const event = (deliveryId: string, pr: number, secondsAgo: number, kind: "full" | "basic", eventName = "pull_request", action = kind === "basic" ? "labeled" : "synchronize"): QueueEntry => ({
  deliveryId,
  event: eventName,
  action,
  receivedAt: new Date(Date.now() - secondsAgo * 1000).toISOString(),
  pr,
  kind,
});

test("queued events: one download per PR whatever the duplicates and order, queue files deleted in the data's commit, debounce respected", async (t) => {
  let prs = { a: 0, b: 0, d: 0, e: 0 };
  const w = await makeWorld(t, {
    only: ["20000", "23000"],
    sim: { generate: 6, seed: 9 },
    yaml: ["thresholds:", "  debounceSeconds: 60"],
    files: async (sim) => {
      const gen = sim.prs().filter((p) => p.number > 23000);
      const open = gen.filter((p) => p.state === "open").map((p) => p.number);
      const closed = gen.filter((p) => p.state === "closed").map((p) => p.number);
      prs = { a: open[0]!, b: closed[0]!, d: open[1]!, e: open[2]! };
      const records = servedRecords(sim, [...gen.map((p) => p.number), 20000, 23000], iso(Date.now() - 3600_000));
      // What happened upstream, which the events tell about (the poll has already passed it).
      sim.update(prs.a, { commentBody: "a review comment" });
      sim.update(prs.b, { labels: ["closed-late"] });
      sim.update(20000, { labels: ["t-combinatorics", "awaiting-review"] });
      // A label event, but a comment came with it: the basic data shows more changed than a splice may cover.
      sim.update(prs.e, { labels: ["help-wanted"], commentBody: "and a comment" });
      return { ...records, "state/watermark.json": watermark(iso(Date.now() + 2000)) };
    },
  });
  const { a, b, d, e } = prs;
  // Out of order, duplicated (the same delivery twice is stored once), several per PR.
  const queued = [
    event("d-a-3", a, 200, "full", "issue_comment", "created"),
    event("d-a-1", a, 300, "full"),
    event("d-a-2", a, 250, "full", "pull_request_review", "submitted"),
    event("d-a-1", a, 300, "full"),
    event("d-b-1", b, 120, "full", "pull_request", "closed"),
    event("d-c-2", 20000, 90, "basic"),
    event("d-c-1", 20000, 95, "basic", "pull_request", "unlabeled"),
    event("d-e-1", e, 80, "basic"),
    event("d-d-1", d, 100, "full"),
    event("d-d-2", d, 5, "full"), // inside the 60 s window: D waits
  ];
  const stored: boolean[] = [];
  for (const e of queued) stored.push((await enqueueEvent(w.clone, e)).stored);
  t.deepEqual(stored, [true, true, true, false, true, true, true, true, true, true]);
  await commitAll(w.clone, "enqueue events");
  await git(w.clone, ["push", "-q", "origin", "main"]);
  const queueBefore = await treeFiles(w.clone, "HEAD", "state/queue");
  t.is(queueBefore.length, 9);

  w.sim.resetCounters();
  const r = await cycle(w);
  t.deepEqual(r.queue, { events: 9, coalescedInto: 4, waiting: 1, drainedFromSpool: 0, ignored: 0 });
  t.deepEqual(downloadedPrs(r), sorted([a, b, e, 20000]));
  t.deepEqual(w.sim.requestsFor(a), { full: 1, basic: 0, reactions: 1 });
  t.deepEqual(w.sim.requestsFor(b), { full: 1, basic: 0, reactions: 1 });
  // A label change needs no commit list: the basic query, spliced into the full record.
  t.deepEqual(w.sim.requestsFor(20000), { full: 0, basic: 1, reactions: 0 });
  t.like(r.downloaded.find((x) => x.pr === 20000), { query: "basic", spliced: true });
  t.deepEqual(w.sim.requestsFor(e), { full: 1, basic: 1, reactions: 1 }, "no safe splice: the full query after the basic one");
  t.like(r.downloaded.find((x) => x.pr === e), { query: "full", spliced: false });
  t.deepEqual(w.sim.requestsFor(d), { full: 0, basic: 0, reactions: 0 }, "the PR inside its debounce window waits");

  const v = await cloneRepo(w.bare);
  const changed = await changedIn(v, r.commit!);
  for (const p of queueBefore.filter((p) => !p.startsWith(`state/queue/${d}/`))) t.is(changed.get(p), "D", `${p} deleted in the data's commit`);
  for (const pr of [a, b, e]) t.is(changed.get(`data/${pr}/pr_info.json`), "M");
  t.is(changed.get("data/20000/pr_info.json"), "M");
  t.deepEqual(await treeFiles(v, "HEAD", "state/queue"), [`state/queue/${d}/d-d-1.json`, `state/queue/${d}/d-d-2.json`], "the waiting PR's files stay");
  for (const pr of [a, b, e]) await assertServedRecord(t, v, w.sim, pr);
  const spliced = JSON.parse(await readText(v, "data/20000/pr_info.json")).data.repository.pullRequest;
  t.deepEqual(spliced.labels.nodes.map((l: { name: string }) => l.name), ["t-combinatorics", "awaiting-review"]);
  t.is(spliced.updatedAt, w.sim.get(20000)!.updatedAt);
  t.deepEqual(spliced.commits, pullRequestOf(w.sim.get(20000)!.prInfo).commits, "the rest of the full record is kept");
});

test("spool drain: deliveries received by `serve` move into the queue durably and cost one download per PR, after the debounce or in the same cycle", async (t) => {
  const SECRET = "spool-secret";
  let prs: number[] = [];
  const w = await makeWorld(t, {
    only: ["20000", "23000"],
    sim: { generate: 6, seed: 13 },
    yaml: ["thresholds:", "  debounceSeconds: 60"],
    files: async (sim) => {
      const gen = sim.prs().filter((p) => p.number > 23000).map((p) => p.number);
      prs = gen.slice(0, 3);
      const records = servedRecords(sim, [...gen, 20000, 23000], iso(Date.now() - 3600_000));
      for (const pr of prs) sim.update(pr, { commentBody: "new comment" });
      return { ...records, "state/watermark.json": watermark(iso(Date.now() + 2000)) };
    },
  });
  const spoolDir = await tempDir("prstate-spool-");
  const spooled = async () => (await readdir(spoolDir)).filter((n) => n.endsWith(".json")).sort();
  /** Signed deliveries through a real receiver (`prstate serve`); the HTTP statuses it answered. */
  const deliver = async (deliveries: { deliveryId: string; event: string; payload: Record<string, unknown> }[]) => {
    const receiver = await startReceiver({ port: 0, secret: SECRET, spoolDir, log: () => undefined });
    const statuses: number[] = [];
    try {
      for (const d of deliveries) statuses.push((await sendDelivery(receiver.url, d, SECRET)).status);
    } finally {
      await receiver.close();
    }
    return statuses;
  };
  const [p1, p2, p3] = prs as [number, number, number];
  const head = (pr: number) => w.sim.get(pr)!.headSha;
  const statuses = await deliver([
    { deliveryId: "s-1", event: "pull_request", payload: webhookPayload("pull_request", "synchronize", { pr: p1, headSha: head(p1) }) },
    { deliveryId: "s-2", event: "issue_comment", payload: webhookPayload("issue_comment", "created", { pr: p1, headSha: head(p1) }) },
    { deliveryId: "s-1", event: "pull_request", payload: webhookPayload("pull_request", "synchronize", { pr: p1, headSha: head(p1) }) }, // redelivery
    { deliveryId: "s-3", event: "pull_request_review", payload: webhookPayload("pull_request_review", "submitted", { pr: p2, headSha: head(p2) }) },
    // A fork PR's CI: no PR number, mapped through the records' head SHAs.
    { deliveryId: "s-4", event: "check_suite", payload: webhookPayload("check_suite", "completed", { pr: p3, headSha: head(p3), fork: true }) },
  ]);
  t.deepEqual(statuses, [202, 202, 202, 202, 202]);
  t.is((await spooled()).length, 4);

  // Cycle 1, right away: drained into the queue and committed, but all inside the debounce window.
  const r1 = await cycle(w, { spoolDir });
  t.is(r1.queue.drainedFromSpool, 4);
  t.deepEqual(r1.queue, { events: 4, coalescedInto: 0, waiting: 3, drainedFromSpool: 4, ignored: 0 });
  t.deepEqual(r1.downloaded, []);
  t.deepEqual(await spooled(), [], "the spool is empty");
  const v1 = await cloneRepo(w.bare);
  t.deepEqual(
    await treeFiles(v1, "HEAD", "state/queue"),
    [`state/queue/${p1}/s-1.json`, `state/queue/${p1}/s-2.json`, `state/queue/${p2}/s-3.json`, `state/queue/${p3}/s-4.json`].sort(),
    "the drained events are in the remote's queue (durable for any writer)",
  );

  // Cycle 2, two minutes later: one download per PR, the queue files go with the data.
  w.sim.resetCounters();
  const r2 = await cycle(w, { spoolDir, now: () => new Date(Date.now() + 120_000) });
  t.deepEqual(r2.queue, { events: 4, coalescedInto: 3, waiting: 0, drainedFromSpool: 0, ignored: 0 });
  t.deepEqual(downloadedPrs(r2), sorted(prs));
  for (const pr of prs) t.deepEqual(w.sim.requestsFor(pr), { full: 1, basic: 0, reactions: 1 }, `#${pr}: one download`);
  const v2 = await cloneRepo(w.bare);
  t.deepEqual(await treeFiles(v2, "HEAD", "state/queue"), []);
  const changed = await changedIn(v2, r2.commit!);
  t.is(changed.get(`state/queue/${p1}/s-1.json`), "D");
  t.is(changed.get(`state/queue/${p3}/s-4.json`), "D");
  for (const pr of prs) {
    t.is(changed.get(`data/${pr}/pr_info.json`), "M");
    await assertServedRecord(t, v2, w.sim, pr);
  }

  // Without a debounce window: received, drained and handled in one cycle; the queue files
  // were born and consumed inside it, so no commit ever holds them.
  w.sim.update(p2, { labels: ["after-the-burst"] });
  t.deepEqual(await deliver([{ deliveryId: "s-5", event: "pull_request", payload: webhookPayload("pull_request", "synchronize", { pr: p2, headSha: head(p2) }) }]), [202]);
  w.sim.resetCounters();
  const r3 = await cycle(w, { spoolDir, config: { ...w.cfg, thresholds: { ...w.cfg.thresholds, debounceSeconds: 0 } } });
  t.deepEqual(r3.queue, { events: 1, coalescedInto: 1, waiting: 0, drainedFromSpool: 1, ignored: 0 });
  t.deepEqual(downloadedPrs(r3), [p2]);
  t.deepEqual(w.sim.requestsFor(p2), { full: 1, basic: 0, reactions: 1 });
  t.deepEqual(await spooled(), []);
  const v3 = await cloneRepo(w.bare);
  t.deepEqual(await treeFiles(v3, "HEAD", "state/queue"), []);
  t.deepEqual([...(await changedIn(v3, r3.commit!)).keys()].filter((p) => p.startsWith("state/queue")), []);
  await assertServedRecord(t, v3, w.sim, p2);
});

// ------------------------------------------------------------------------------ 6. stopping early

async function rateLimitWorld(t: ExecutionContext, sim: GitHubSimulatorOptions, yaml: string[], extra: Record<string, string> = {}): Promise<{ w: World; missing: number[]; backfill: number[] }> {
  let missing: number[] = [];
  let backfill: number[] = [];
  const w = await makeWorld(t, {
    only: ["20000", "23000"],
    sim: { generate: 8, seed: 21, ...sim },
    yaml,
    files: async (s) => {
      const gen = s.prs().filter((p) => p.number > 23000);
      missing = gen.filter((p) => p.state === "open").map((p) => p.number);
      backfill = gen.filter((p) => p.state === "closed").map((p) => p.number);
      return {
        ...(await fixtureRecords(["20000", "23000"])),
        "missing_prs.txt": `-- open first\n${missing.join("\n")}\n`,
        "closed_prs_to_backfill.txt": `${backfill.join("\n")}\n`,
        "state/watermark.json": watermark(iso(s.clock.now())),
        ...extra,
      };
    },
  });
  return { w, missing, backfill };
}

test("rate-limit reserve: the cycle stops when GitHub reports the reserve left, commits what it got, counts no attempt", async (t) => {
  // 10 GraphQL points, 2 per full download, stop at 4 left: three downloads, one at a time.
  // 20000 is stubborn: the periodic stubborn retry (due: it never ran) is planned fifth, after the reserve.
  const { w, missing, backfill } = await rateLimitWorld(t, { rateLimit: { limit: 10 } }, ["thresholds:", "  rateLimitReserve: 4"], { "stubborn_prs.txt": "20000\n" });
  const r = await cycle(w, { concurrency: 1 });
  t.is(r.stoppedEarly, "rate-limit");
  t.is(r.plan.length, 9);
  t.is(r.plan.findIndex((p) => p.pr === 20000 && p.query === "full (stubborn retry)"), 4);
  t.deepEqual(r.downloaded.map((d) => d.pr), r.plan.slice(0, 3).map((p) => p.pr), "the first three planned PRs");
  t.deepEqual(r.failed, []);
  t.is(w.sim.requests.rateLimited, 0, "it stopped before GitHub refused anything");
  const v = await cloneRepo(w.bare);
  t.is(await remoteHead(w.bare), String(r.commit));
  for (const pr of downloadedPrs(r)) await assertServedRecord(t, v, w.sim, pr);
  const got = new Set(downloadedPrs(r));
  t.deepEqual(await entries(v, "missing_prs.txt"), missing.filter((n) => !got.has(n)));
  t.deepEqual(await entries(v, "closed_prs_to_backfill.txt"), backfill.filter((n) => !got.has(n)));
  t.deepEqual(await treeFiles(v, "HEAD", "state/attempts"), []);
  // The retry did not run, so it is still due: the next cycle must not skip it for a day.
  t.deepEqual(Object.keys(JSON.parse(await readText(v, "state/checks.json"))), ["paranoid"]);
});

test("an exhausted rate limit mid-cycle: RateLimitError stops the cycle cleanly, what was downloaded is committed, no attempt counted", async (t) => {
  const { w, missing, backfill } = await rateLimitWorld(t, { now: Date.now() - 10 * 60_000 }, []);
  // Two poll hits (the recorded PRs changed upstream, a minute apart) that the cycle will not get to.
  const hitAt = [20000, 23000].map((pr) => {
    w.sim.clock.advance(60_000);
    return w.sim.update(pr, { commentBody: "upstream change" }).updatedAt;
  });
  // After the first download's two requests, the primary GraphQL limit runs out for an hour.
  w.sim.fault({ kind: "slow", path: "/graphql", after: 2, times: 1, onHit: () => w.sim.rateLimitExhausted({ resource: "graphql" }) });
  const r = await cycle(w, { concurrency: 1 });
  t.is(r.stoppedEarly, "rate-limit");
  t.is(r.poll.hits, 2);
  t.false(r.downloaded.some((d) => d.pr === 20000 || d.pr === 23000));
  t.is(r.watermark.to, hitAt[0], "the watermark does not pass the hits the rate limit left undone");
  t.is(r.downloaded.length, 1);
  t.deepEqual(r.failed, [], "a rate limit is not a failure");
  t.is(r.rateLimited.length, 1);
  t.true(w.sim.requests.rateLimited >= 1);
  t.is(r.transitions.length, 1, "only the download has a transition");
  const v = await cloneRepo(w.bare);
  t.is(await remoteHead(w.bare), String(r.commit));
  await assertServedRecord(t, v, w.sim, r.downloaded[0]!.pr);
  const got = r.downloaded[0]!.pr;
  t.deepEqual(await entries(v, "missing_prs.txt"), missing.filter((n) => n !== got));
  t.deepEqual(await entries(v, "closed_prs_to_backfill.txt"), backfill.filter((n) => n !== got));
  t.deepEqual(await treeFiles(v, "HEAD", "state/attempts"), [], "waiting out a rate limit is never a failed attempt");
  t.deepEqual(await attemptFiles(w.clone, r.rateLimited[0]!), []);
});

test("credentials refused mid-cycle: the downloads before it are committed and pushed, then the cycle fails with AuthError", async (t) => {
  const { w, missing, backfill } = await rateLimitWorld(t, {}, []);
  // The token is revoked after the first download's two requests.
  w.sim.fault({ kind: "status", status: 401, path: "/graphql", after: 2, body: { message: "Bad credentials", documentation_url: "https://docs.github.com/rest" } });
  const logs: string[] = [];
  const err = await t.throwsAsync(cycle(w, { concurrency: 1, log: (l) => logs.push(l) }), { instanceOf: AuthError });
  t.regex(err!.message, /refused the credentials \(401\)/);
  const v = await cloneRepo(w.bare);
  const head = await remoteHead(w.bare);
  t.not(head, w.seed, "the commit was pushed before the error");
  const history = (await git(v, ["log", "--format=%B", "-1"])).stdout;
  const got = [...missing, ...backfill].filter((pr) => history.includes(`Prstate-PR: ${pr}\n`));
  t.is(got.length, 1, "exactly the one download before the refusal");
  await assertServedRecord(t, v, w.sim, got[0]!);
  t.deepEqual(await treeFiles(v, "HEAD", "state/attempts"), [], "a refused token is not the PR's failure");
  t.is([...(await entries(v, "missing_prs.txt")), ...(await entries(v, "closed_prs_to_backfill.txt"))].length, 7);
});

// ------------------------------------------------------------------------------ 7. the CLI

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

test("sync --dry-run prints the plan and changes nothing: no download, no write, no commit, no repair", async (t) => {
  let missing: number[] = [];
  let closed = 0;
  const w = await makeWorld(t, {
    only: ["20000", "23000"],
    sim: { generate: 4, seed: 5, token: "ghp_drytoken0123456789" },
    files: async (sim) => {
      missing = sim.prs().filter((p) => p.number > 23000 && p.state === "open").map((p) => p.number);
      closed = sim.prs().find((p) => p.number > 23000 && p.state === "closed")!.number;
      return {
        ...(await fixtureRecords(["20000", "23000"])),
        "missing_prs.txt": `${missing.join("\n")}\n`,
        "state/watermark.json": watermark(iso(sim.clock.now())),
      };
    },
  });
  // A leftover of an interrupted write (untracked): a real cycle's preflight removes it, a dry
  // run must not touch it.
  const leftover = `data/${closed}-temp/new/pr_info.json`;
  await writeFiles(w.clone, { [leftover]: "{}\n" });
  const status = async () => (await git(w.clone, ["status", "--porcelain", "--untracked-files=all"])).stdout;
  const before = { head: (await git(w.clone, ["rev-parse", "HEAD"])).stdout, status: await status() };
  w.sim.resetCounters();
  const res = await runCli(["sync", "--repo", w.clone, "--api-url", w.url, "--dry-run"], { ...GIT_ENV, GITHUB_TOKEN: "ghp_drytoken0123456789" });
  t.is(res.code, 0, res.stderr);
  t.regex(res.stdout, new RegExp(`^dry run: ${missing.length} download\\(s\\) planned, `, "m"));
  for (const pr of missing) t.regex(res.stdout, new RegExp(`^  #${pr} +missing +full +missing_prs\\.txt$`, "m"));
  t.is(w.sim.requests.graphql, 0, "nothing downloaded");
  t.is((await git(w.clone, ["rev-parse", "HEAD"])).stdout, before.head, "no commit");
  t.is(await remoteHead(w.bare), w.seed, "nothing pushed");
  t.is(await status(), before.status, "work tree as it was");
  t.true((await stat(join(w.clone, leftover))).isFile(), "the leftover temp folder is untouched");
  t.false(res.stdout.includes("ghp_drytoken") || res.stderr.includes("ghp_drytoken"));
});

test("sync --json in GitHub Actions: stdout is one JSON document, the annotations go to stderr, the job summary is written", async (t) => {
  const w = await makeWorld(t, {
    only: ["20000", "23000"],
    files: async (sim) => ({
      ...(await fixtureRecords(["20000", "23000"])),
      // 99999 does not exist on GitHub: a quick, counted failure.
      "missing_prs.txt": "99999\n",
      "closed_prs_to_backfill.txt": "23000\n",
      "state/watermark.json": watermark(iso(sim.clock.now())),
    }),
  });
  const summary = join(await tempDir("prstate-summary-"), "summary.md");
  const env = { ...GIT_ENV, GITHUB_ACTIONS: "true", GITHUB_STEP_SUMMARY: summary, PRSTATE_MIN_REQUEST_INTERVAL_MS: "0" };
  const res = await runCli(["sync", "--repo", w.clone, "--api-url", w.url, "--writer", "w-ci", "--json"], env);
  t.is(res.code, 0, res.stderr);
  const report = JSON.parse(res.stdout) as CycleReport;
  t.deepEqual(report.failed.map((f) => [f.pr, f.errorClass, f.attempts]), [[99999, "NotFoundError", 1]]);
  t.regex(res.stderr, /^::warning title=prstate PR #99999::PR #99999 failed \(1 attempt\(s\)\): NotFoundError$/m);
  t.false(res.stdout.includes("::warning"));
  const md = await readFile(summary, "utf8");
  t.true(md.startsWith("### prstate sync (w-ci)\n"));
  t.true(md.includes("Failures: #99999 NotFoundError"));
});

// ------------------------------------------------------------------------------ 8. recovery

test("a record write interrupted between its two renames: the next sync restores the committed record and goes on", async (t) => {
  const w = await makeWorld(t, {
    only: ["20000", "23000"],
    files: async (sim) => ({
      ...servedRecords(sim, [20000, 23000], iso(sim.clock.now())),
      "state/watermark.json": watermark(iso(sim.clock.now())),
    }),
  });
  const committed = await readText(w.clone, "data/20000/pr_info.json");
  // What writeRecord leaves when killed after moving the old record aside and before moving
  // the new one in: data/20000 is gone (a tracked deletion), both versions sit in the temp folder.
  const { rename, mkdir } = await import("node:fs/promises");
  await mkdir(join(w.clone, "data/20000-temp"), { recursive: true });
  await rename(join(w.clone, "data/20000"), join(w.clone, "data/20000-temp/old"));
  await cp(join(w.clone, "data/20000-temp/old"), join(w.clone, "data/20000-temp/new"), { recursive: true });
  // The staged new record is complete and valid, but was never committed.
  const staged = JSON.parse(committed);
  staged.prstate = { fetchedAt: "2030-01-01T00:00:00Z" };
  await writeFiles(w.clone, { "data/20000-temp/new/pr_info.json": `${JSON.stringify(staged, null, 2)}\n` });
  t.not((await git(w.clone, ["status", "--porcelain"])).stdout, "", "the tree is dirty before the cycle");

  await cycle(w);
  t.is(await readText(w.clone, "data/20000/pr_info.json"), committed, "the committed record is back");
  const left = (await git(w.clone, ["status", "--porcelain", "--untracked-files=all"])).stdout.split("\n").filter((l) => l && l !== "?? .gitattributes");
  t.deepEqual(left, [], "nothing left over (the world's .gitattributes is installed, not committed)");
  t.false((await readdir(join(w.clone, "data"))).some((n) => n.endsWith("-temp")));
  t.is(await remoteHead(w.bare), (await git(w.clone, ["rev-parse", "HEAD"])).stdout.trim());
});

test("a label event and the poll hit of the same update: the basic query is enough, spliced into the full record", async (t) => {
  const w = await makeWorld(t, {
    only: ["20000", "23000"],
    yaml: ["thresholds:", "  debounceSeconds: 0"],
    files: async (sim) => {
      const records = servedRecords(sim, [20000, 23000], iso(Date.now() - 3600_000));
      // The watermark is behind the update: polling sees it too.
      const mark = watermark(iso(sim.clock.now() - 60_000));
      sim.update(20000, { labels: ["t-combinatorics", "awaiting-review"] });
      return { ...records, "state/watermark.json": mark };
    },
  });
  await enqueueEvent(w.clone, event("d-label", 20000, 30, "basic"));
  await commitAll(w.clone, "enqueue a label event");
  w.sim.resetCounters();
  const r = await cycle(w);
  t.is(r.poll.hits, 1);
  t.like(r.downloaded.find((d) => d.pr === 20000), { query: "basic", spliced: true });
  t.deepEqual(w.sim.requestsFor(20000), { full: 0, basic: 1, reactions: 0 }, "no commit list fetched for a label change");
  const v = await cloneRepo(w.bare);
  const info = JSON.parse(await readText(v, "data/20000/pr_info.json"));
  t.deepEqual(info.data.repository.pullRequest, pullRequestOf(w.sim.get(20000)!.prInfo), "the spliced record is what GitHub serves");
  t.is(r.watermark.to, w.sim.get(20000)!.updatedAt, "the hit is settled by the spliced record");
});
