// Failure handling and integrity end to end (DESIGN sections 2, 3 and 8; issue 4): real git
// (a bare remote and clones with the merge driver installed), the GitHub simulator on
// 127.0.0.1, and the sync cycle, `runCheck` and the CLI as a workflow would run them. Every
// assertion reads what landed on the remote (or the clone's commits), never in-memory state.
//
// The seed is a small data repo that checks clean against the simulator: records of every
// open PR (copied from the fixtures), 4197 stubborn with basic data, the polling watermark at
// "now" and the periodic jobs just run, so each test's cycles only do what its scenario asks.
import test, { type ExecutionContext } from "ava";
import { execFile } from "node:child_process";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig, type Config } from "../src/config/config.js";
import { createGitHub, type GitHub } from "../src/github/client.js";
import { prHistory } from "../src/git/history.js";
import { install } from "../src/install/install.js";
import { runCheck } from "../src/integrity/run-check.js";
import { GitHubSimulator, type FaultSpec } from "../src/simulator/github-simulator.js";
import { readStatus } from "../src/status/read-status.js";
import { runCycle, type CycleReport } from "../src/sync/run-cycle.js";
import { cleanupTempDirs, cloneRepo, commitAll, git, GIT_ENV, initBareRemote, tempDir } from "./helpers/git-repo.js";
import { FileSpool } from "../hooks/spool.js";
import { ServerError } from "../src/errors.js";

const FIXTURES = fileURLToPath(new URL("../../fixtures/", import.meta.url));
const CLI = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const REPOSITORY = "leanprover-community/mathlib4";
/** The simulator's open PRs (4197 has basic data only: its full query always answers 502). */
const OPEN_RECORDS = ["10024", "19055", "20000", "23100", "4197-basic"];

test.after.always(cleanupTempDirs);

// ---------------------------------------------------------------------------------------
// The world of one test: a simulator, a bare remote seeded clean, one installed clone.

interface World {
  sim: GitHubSimulator;
  url: string;
  gh: GitHub;
  bare: string;
  dir: string;
  cfg: Config;
}

interface WorldOptions {
  /** Seed records (entries of OPEN_RECORDS) left out: those PRs have no data. */
  drop?: string[];
  /** Extra or replaced seed files (path -> content). */
  files?: Record<string, string>;
  faults?: FaultSpec[];
  /** Client settings (a short per-request deadline for the timeout scenario). */
  client?: { requestTimeoutMs?: number; retries?: number };
}

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function fixtureRecord(name: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const file of readdirSync(join(FIXTURES, "data", name))) out[`data/${name}/${file}`] = readFileSync(join(FIXTURES, "data", name, file), "utf8");
  return out;
}

async function world(t: ExecutionContext, opts: WorldOptions = {}): Promise<World> {
  const sim = new GitHubSimulator({ hooks: false });
  const url = await sim.start();
  t.teardown(() => sim.stop());
  for (const f of opts.faults ?? []) sim.fault(f);
  const now = isoSeconds(Date.now());
  const files: Record<string, string> = {};
  for (const name of OPEN_RECORDS.filter((n) => !(opts.drop ?? []).includes(n))) Object.assign(files, fixtureRecord(name));
  // 19055's CI is running in the fixture: a fetch stamp of now keeps it from being "CI stale".
  if (files["data/19055/timestamp.txt"] !== undefined) files["data/19055/timestamp.txt"] = `${now}\n`;
  Object.assign(files, {
    "prstate.yaml": `repository: ${REPOSITORY}\nthresholds:\n  backoffBaseSeconds: 0   # cycles follow each other within seconds\n`,
    "stubborn_prs.txt": "4197\n",
    "state/watermark.json": `${JSON.stringify({ updatedAt: now, writer: "seed" })}\n`,
    "state/checks.json": `${JSON.stringify({ paranoid: now, stubbornRetry: now })}\n`,
    ...opts.files,
  });
  const bare = await initBareRemote(files);
  const dir = await writerClone(bare);
  // .gitattributes is committed once, as a maintainer would after the first install.
  await commitAll(dir, "install the prstate merge driver");
  await git(dir, ["push", "-q", "origin", "main"]);
  const gh = createGitHub({ repository: REPOSITORY, apiUrl: url, minWriteIntervalMs: 0, retryBaseDelayMs: 5, ...opts.client });
  return { sim, url, gh, bare, dir, cfg: await loadConfig(dir) };
}

/** A CI checkout: a fresh clone with the driver installed. */
async function writerClone(bare: string): Promise<string> {
  const dir = await cloneRepo(bare);
  const report = await install(dir);
  if (report.missing.length > 0) throw new Error(`install left ${report.missing.join("; ")}`);
  return dir;
}

function cycle(w: World, opts: { dir?: string; writer?: string; concurrency?: number; random?: () => number } = {}): Promise<CycleReport> {
  return runCycle({
    repoDir: opts.dir ?? w.dir,
    github: w.gh,
    config: w.cfg,
    writer: opts.writer ?? "writer-a",
    pushOptions: { baseDelayMs: 10 },
    ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
    ...(opts.random ? { random: opts.random } : {}),
  });
}

// ---- reading the remote ----

async function remoteFiles(bare: string, under: string): Promise<string[]> {
  return (await git(bare, ["ls-tree", "-r", "--name-only", "main", "--", under])).stdout.split("\n").filter((l) => l !== "");
}

/** A file on the remote's main, or undefined when it does not exist there. */
async function remoteText(bare: string, path: string): Promise<string | undefined> {
  const r = await git(bare, ["show", `main:${path}`], { allowFail: true });
  return r.code === 0 ? r.stdout : undefined;
}

async function remotePull(bare: string, pr: number, basic = false): Promise<Record<string, any>> {
  const text = await remoteText(bare, basic ? `data/${pr}-basic/basic_pr_info.json` : `data/${pr}/pr_info.json`);
  if (text === undefined) throw new Error(`no ${basic ? "basic " : ""}record of #${pr} on the remote`);
  return JSON.parse(text).data.repository.pullRequest;
}

/** How many lines of a list file are exactly the entry `pr` (CRLF-tolerant). */
function entryCount(text: string | undefined, pr: number): number {
  return (text ?? "").split("\n").filter((l) => l.replace(/\r$/, "").trim() === String(pr)).length;
}

/** `git show --name-status` of the remote's main: what its last commit added, changed, deleted. */
async function lastCommitChanges(bare: string): Promise<string[]> {
  return (await git(bare, ["show", "--name-status", "--format=", "main"])).stdout.split("\n").filter((l) => l !== "");
}

/** The CLI in a child process, without the machine's GitHub settings (the simulator needs no token). */
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = Object.fromEntries(Object.entries(GIT_ENV).filter(([k]) => !/^(GITHUB_|GH_TOKEN$)/.test(k)));
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

// ---------------------------------------------------------------------------------------

test("a PR whose full query always fails becomes stubborn at the threshold, once, then gets basic data", async (t) => {
  // 23100 times out (the client's deadline is far below the simulator's delay); 10024 answers
  // 502, GitHub's answer for huge PRs. Both are missing (threshold 3).
  const w = await world(t, {
    drop: ["23100", "10024"],
    files: { "missing_prs.txt": "23100\n10024\n" },
    faults: [
      { kind: "slow", pr: 23100, query: "full", delayMs: 30_000 },
      { kind: "server-error", pr: 10024, query: "full", status: 502 },
    ],
    client: { requestTimeoutMs: 2000, retries: 0 },
  });

  for (const k of [1, 2]) {
    const r = await cycle(w);
    t.deepEqual(
      r.failed.map((f) => [f.pr, f.errorClass, f.attempts]).sort(),
      [[10024, "ServerError", k], [23100, "TimeoutError", k]],
      `cycle ${k}: both failures counted`,
    );
    t.deepEqual(r.becameStubborn, []);
    t.is((await remoteFiles(w.bare, "state/attempts/23100")).length, k, `cycle ${k}: ${k} attempt file(s) of #23100 on the remote`);
    t.is((await remoteFiles(w.bare, "state/attempts/10024")).length, k);
  }

  const third = await cycle(w);
  t.deepEqual([...third.becameStubborn].sort(), [10024, 23100], "the third failure reaches the threshold of 3");
  const stubborn = await remoteText(w.bare, "stubborn_prs.txt");
  t.is(entryCount(stubborn, 23100), 1);
  t.is(entryCount(stubborn, 10024), 1);
  t.is(entryCount(stubborn, 4197), 1, "the PR already listed is untouched");
  t.deepEqual(await remoteFiles(w.bare, "state/attempts"), [], "no attempt file is left");
  const changes = await lastCommitChanges(w.bare);
  t.is(changes.filter((c) => /^D\tstate\/attempts\/23100\//.test(c)).length, 2, "the commit that makes #23100 stubborn deletes its two attempt files");
  t.is(changes.filter((c) => /^D\tstate\/attempts\/10024\//.test(c)).length, 2);
  t.true(changes.includes("M\tstubborn_prs.txt"), "and adds it to stubborn_prs.txt");
  t.like((await prHistory(w.bare, 23100))[0]?.transition, { from: "failing(2)", to: "stubborn" });
  const fullQueries = w.sim.requestsFor(23100).full;

  const fourth = await cycle(w);
  t.deepEqual(
    fourth.downloaded.map((d) => [d.pr, d.query]).sort(),
    [[10024, "basic"], [23100, "basic"]],
    "stubborn PRs are downloaded with the basic query",
  );
  t.deepEqual(fourth.failed, []);
  t.is((await remotePull(w.bare, 23100, true)).number, 23100);
  t.deepEqual(await remoteFiles(w.bare, "data/23100"), [], "no full record next to the basic one");
  t.is((await remoteFiles(w.bare, "data/10024-basic")).length, 2, "basic_pr_info.json and timestamp.txt");
  t.is(await remoteText(w.bare, "missing_prs.txt"), "", "both left missing_prs.txt with their basic data");
  t.like((await prHistory(w.bare, 23100))[0]?.transition, { from: "stubborn", to: "fresh (basic)" });

  const fifth = await cycle(w);
  t.deepEqual(fifth.plan, [], "nothing left to do");
  t.is(entryCount(await remoteText(w.bare, "stubborn_prs.txt"), 23100), 1, "still listed exactly once");
  t.is(w.sim.requestsFor(23100).full, fullQueries, "no full query of a stubborn PR outside the periodic retry");
  const check = await runCheck({ repoDir: w.dir, config: w.cfg, github: w.gh, writer: "checker" });
  t.deepEqual(check.findings, [], "the repo checks clean");
});

test("two writers recording a failure of the same PR at once end with two attempt files and no conflict", async (t) => {
  // The 502 comes after a pause, so both writers have fetched before either pushes.
  const w = await world(t, {
    drop: ["23100"],
    files: { "missing_prs.txt": "23100\n" },
    faults: [{ kind: "server-error", pr: 23100, query: "full", status: 502, delayMs: 1000 }],
    client: { retries: 0 },
  });
  const other = await writerClone(w.bare);
  const [a, b] = await Promise.all([cycle(w, { writer: "writer-a" }), cycle(w, { dir: other, writer: "writer-b" })]);
  t.deepEqual(a.failed.map((f) => [f.pr, f.attempts]), [[23100, 1]]);
  t.deepEqual(b.failed.map((f) => [f.pr, f.attempts]), [[23100, 1]]);
  t.true((a.push?.merges ?? 0) + (b.push?.merges ?? 0) >= 1, "one push had to merge the other's");

  const files = await remoteFiles(w.bare, "state/attempts/23100");
  t.is(files.length, 2);
  t.deepEqual(files.map((f) => /-(writer-[ab])\.json$/.exec(f)?.[1]).sort(), ["writer-a", "writer-b"]);
  const markers = await git(w.bare, ["grep", "-l", "-E", "^(<<<<<<<|>>>>>>>)", "main", "--"], { allowFail: true });
  t.is(markers.stdout, "", "no conflict markers anywhere");
  t.is(entryCount(await remoteText(w.bare, "missing_prs.txt"), 23100), 1);

  // Both failures count: the next one is the third and reaches the threshold.
  const next = await cycle(w, { writer: "writer-a" });
  t.deepEqual(next.becameStubborn, [23100]);
  t.deepEqual(await remoteFiles(w.bare, "state/attempts"), []);
});

test("broken JSON committed by an older tool is found, removed, counted, listed, then re-downloaded", async (t) => {
  const good = readFileSync(join(FIXTURES, "data/20000/pr_info.json"), "utf8");
  const w = await world(t, { files: { "data/20000/pr_info.json": good.slice(0, 700) } });

  const found = await cli(["check", "--repo", w.dir, "--api-url", w.url, "--json"]);
  t.is(found.code, 1, "findings remain: exit 1, like a linter");
  const report = JSON.parse(found.stdout);
  t.deepEqual(report.findings.map((f: { kind: string; pr: number }) => [f.kind, f.pr]), [["broken-record", 20000]]);

  const fixed = await cli(["check", "--fix", "--repo", w.dir, "--api-url", w.url, "--writer", "fixer", "--json"]);
  t.is(fixed.code, 0, fixed.stderr);
  const commit = JSON.parse(fixed.stdout).fixed.commit as string;
  t.regex(commit, /^[0-9a-f]{40}$/);
  const tree = (await git(w.dir, ["ls-tree", "-r", "--name-only", commit])).stdout.split("\n");
  t.false(tree.some((p) => p.startsWith("data/20000/")), "the broken record is removed");
  const attempts = tree.filter((p) => p.startsWith("state/attempts/20000/"));
  t.is(attempts.length, 1, "the PR counts one failed attempt");
  t.like(JSON.parse((await git(w.dir, ["show", `${commit}:${attempts[0]}`])).stdout), { errorClass: "BrokenRecord", writer: "fixer" });
  t.is(entryCount((await git(w.dir, ["show", `${commit}:missing_prs.txt`])).stdout, 20000), 1, "an open PR is listed as missing");
  const message = (await git(w.dir, ["log", "-1", "--format=%B", commit])).stdout;
  t.regex(message, /^Prstate-PR: 20000$/m);
  t.regex(message, /^Prstate-Transition: missing -> failing\(1\)$/m, "a broken record is no data: the PR was missing");
  t.regex(message, /^Prstate-Reason: broken-record: /m);
  t.regex(message, /^Prstate-Writer: fixer$/m);
  const history = await cli(["history", "20000", "--repo", w.dir, "--json"]);
  t.is(history.code, 0, history.stderr);
  t.like(JSON.parse(history.stdout)[0], { commit, transition: { from: "missing", to: "failing(1)", writer: "fixer" } });
  t.like((await readStatus(w.dir, w.cfg)).failing, [{ pr: 20000, attempts: 1, lastError: "BrokenRecord" }]);

  // The next sync pushes the fix and downloads the PR again.
  const r = await cycle(w);
  t.deepEqual(r.downloaded.map((d) => d.pr), [20000]);
  t.deepEqual(await remotePull(w.bare, 20000), JSON.parse(good).data.repository.pullRequest, "the record is GitHub's again");
  t.deepEqual(await remoteFiles(w.bare, "state/attempts"), []);
  t.true((await lastCommitChanges(w.bare)).includes(`D\t${attempts[0]}`), "the download's commit deletes the attempt file");
  t.is(entryCount(await remoteText(w.bare, "missing_prs.txt"), 20000), 0);
  t.like((await prHistory(w.bare, 20000))[0]?.transition, { from: "failing(1)", to: "fresh" });
});

test("a force-push upstream is detected with updatedAt unchanged and the PR re-downloaded", async (t) => {
  const w = await world(t);
  const before = await remotePull(w.bare, 20000);
  const head = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c";
  w.sim.update(20000, { headSha: head, bumpUpdatedAt: false });
  t.is(w.sim.get(20000)!.updatedAt, before.updatedAt, "GitHub's updatedAt did not move");

  const check = await runCheck({ repoDir: w.dir, config: w.cfg, github: w.gh, writer: "checker" });
  t.deepEqual(check.findings.map((f) => [f.kind, f.pr]), [["force-pushed", 20000]]);

  const r = await cycle(w);
  t.is(r.poll.hits, 0, "polling cannot see it");
  t.deepEqual(r.findings, { "force-pushed": 1 });
  t.deepEqual(r.downloaded.map((d) => d.pr), [20000]);
  const after = await remotePull(w.bare, 20000);
  t.is(after.headRefOid, head);
  t.is(after.updatedAt, before.updatedAt);
  t.is(entryCount(await remoteText(w.bare, "redownload.txt"), 20000), 0, "not left listed for re-download");
  const history = await prHistory(w.bare, 20000);
  t.deepEqual(history.map((e) => `${e.transition.from} -> ${e.transition.to}`), ["outdated -> fresh", "fresh -> outdated"], "newest first");
  t.is(history[0]!.commit, history[1]!.commit, "flagged and re-downloaded in the same cycle, in one commit");
  t.regex(history[1]!.transition.reason, /^force-pushed: /);
  t.deepEqual((await runCheck({ repoDir: w.dir, config: w.cfg, github: w.gh, writer: "checker" })).findings, []);
});

test("a PR closed upstream but open in its record is found by check and re-downloaded by the next sync", async (t) => {
  const w = await world(t);
  t.is((await remotePull(w.bare, 19055)).state, "OPEN");
  // Closed without the listing noticing (a skipped run, a watermark moved by other tooling).
  w.sim.update(19055, { state: "closed", bumpUpdatedAt: false });
  const check = await runCheck({ repoDir: w.dir, config: w.cfg, github: w.gh, fix: true, writer: "fixer" });
  t.deepEqual(check.findings.map((f) => [f.kind, f.pr]), [["closed-but-open-in-record", 19055]]);
  t.is(entryCount((await git(w.dir, ["show", "HEAD:redownload.txt"])).stdout, 19055), 1, "listed for re-download");

  const r = await cycle(w);
  t.is(r.poll.hits, 0);
  t.deepEqual(r.downloaded.map((d) => d.pr), [19055]);
  t.is((await remotePull(w.bare, 19055)).state, "CLOSED");
  t.is(entryCount(await remoteText(w.bare, "redownload.txt"), 19055), 0);
  t.deepEqual((await runCheck({ repoDir: w.dir, config: w.cfg, github: w.gh, writer: "checker" })).findings, []);
});

test("the paranoid cycle, when due, finds a PR closed upstream that polling missed and re-downloads it", async (t) => {
  const now = isoSeconds(Date.now());
  // The paranoid check last ran two days ago (daily by default): this cycle runs it.
  const w = await world(t, { files: { "state/checks.json": `${JSON.stringify({ paranoid: isoSeconds(Date.now() - 2 * 86_400_000), stubbornRetry: now })}\n` } });
  w.sim.update(19055, { state: "closed", bumpUpdatedAt: false });
  const r = await cycle(w);
  t.true(r.paranoid);
  t.is(r.poll.hits, 0);
  t.deepEqual(r.findings, { "closed-but-open-in-record": 1 });
  t.deepEqual(r.downloaded.map((d) => d.pr), [19055]);
  t.is((await remotePull(w.bare, 19055)).state, "CLOSED");
  const checks = JSON.parse((await remoteText(w.bare, "state/checks.json"))!);
  t.true(Date.parse(checks.paranoid) >= Date.parse(now), "the paranoid run is recorded");
});

// DESIGN 8 puts "records that say open for PRs GitHub says are closed" among the checks of
// every cycle. The watermark file remembers GitHub's open PRs of the last cycle, so the next
// cycle's scope holds a PR closed since then even when no listing shows it any more.
test("a cycle between paranoid runs finds a PR closed upstream that polling missed, through the last cycle's open PRs", async (t) => {
  const w = await world(t);
  const first = await cycle(w);
  t.false(first.paranoid);
  t.true(JSON.parse((await remoteText(w.bare, "state/watermark.json"))!).open.includes(19055), "the open PRs are remembered");
  w.sim.update(19055, { state: "closed", bumpUpdatedAt: false });
  const r = await cycle(w);
  t.false(r.paranoid, "not the daily full scan");
  t.is(r.findings["closed-but-open-in-record"], 1);
  t.deepEqual(r.downloaded.map((d) => d.pr), [19055]);
  t.is((await remotePull(w.bare, 19055)).state, "CLOSED");
  t.false(JSON.parse((await remoteText(w.bare, "state/watermark.json"))!).open.includes(19055));
});

test("a missing PR whose data arrived leaves missing_prs.txt without another download", async (t) => {
  const w = await world(t, { files: { "missing_prs.txt": "-- PRs without data yet\n20000\n" } });
  const r = await cycle(w);
  t.is(r.findings["satisfied-list-entry"], 1);
  t.deepEqual(r.plan, [], "the record is not downloaded again");
  t.is(w.sim.requestsFor(20000).full, 0);
  t.is(await remoteText(w.bare, "missing_prs.txt"), "-- PRs without data yet\n", "the entry goes, the comment stays");
});

test("check --fix cleans a list with 90 duplicates of one number and blank runs without losing a comment", async (t) => {
  const original = `${readFileSync(join(FIXTURES, "lists/stubborn_prs.02a49d79.txt"), "utf8")}${"16023\n\n".repeat(8)}\n\n`;
  t.is(entryCount(original, 16023), 91);
  t.regex(original, /\n\n\n/, "with blank runs");
  const w = await world(t, { files: { "stubborn_prs.txt": original } });

  const report = await runCheck({ repoDir: w.dir, config: w.cfg, github: w.gh, fix: true, writer: "fixer" });
  t.true(report.findings.some((f) => f.kind === "duplicate-list-entries" && f.pr === 16023 && /91 times/.test(f.detail)));
  t.regex(report.fixed?.commit ?? "", /^[0-9a-f]{40}$/);
  const cleaned = (await git(w.dir, ["show", "HEAD:stubborn_prs.txt"])).stdout;
  const lines = (text: string) => text.split("\n").map((l) => l.replace(/\r$/, ""));
  const comments = (text: string) => lines(text).filter((l) => l.startsWith("--"));
  t.deepEqual(comments(cleaned), comments(original), "every comment line, in order");
  t.is(comments(original).length, 3);
  t.is(entryCount(cleaned, 16023), 1);
  const entries = (text: string) => lines(text).filter((l) => /^\d+$/.test(l.trim()));
  t.deepEqual(entries(cleaned), [...new Set(entries(original))], "every other entry once, in its first place");
  t.notRegex(cleaned, /\n\n\n/, "no blank runs left");
  t.deepEqual((await git(w.dir, ["show", "--name-only", "--format=", "HEAD"])).stdout.trim().split("\n"), ["stubborn_prs.txt"]);

  const again = await runCheck({ repoDir: w.dir, config: w.cfg, github: w.gh, fix: true, writer: "fixer" });
  t.deepEqual(again.findings, []);
  t.is(again.fixed, undefined, "nothing left to fix");
});

test("legacy '-- second attempt for N' comments count as attempts and go once the PR is fine", async (t) => {
  const w = await world(t, {
    drop: ["23100", "10024"],
    files: { "missing_prs.txt": "-- second attempt for 23100\n23100\n-- third attempt for 10024\n10024\n-- keep this note\n" },
    faults: [{ kind: "server-error", pr: 10024, query: "full", status: 502 }],
    client: { retries: 0 },
  });
  t.deepEqual(
    (await readStatus(w.dir, w.cfg)).failing.map((f) => [f.pr, f.attempts]),
    [[10024, 2], [23100, 1]],
    "'second attempt' = one failure before, 'third attempt' = two",
  );

  const r = await cycle(w);
  t.deepEqual(r.downloaded.map((d) => d.pr), [23100]);
  t.like((await prHistory(w.bare, 23100))[0]?.transition, { from: "failing(1)", to: "fresh" });
  t.deepEqual(r.becameStubborn, [10024], "two legacy failures plus this one reach the threshold of 3");
  t.is(await remoteText(w.bare, "missing_prs.txt"), "10024\n-- keep this note\n", "both legacy comments and the satisfied entry are gone");
  t.is(entryCount(await remoteText(w.bare, "stubborn_prs.txt"), 10024), 1);

  const next = await cycle(w);
  t.deepEqual(next.downloaded.map((d) => [d.pr, d.query]), [[10024, "basic"]]);
  t.is(await remoteText(w.bare, "missing_prs.txt"), "-- keep this note\n");
  t.deepEqual((await readStatus(w.dir, w.cfg)).failing, []);
});

test("failures while backfilling never keep the stubborn, missing or re-download classes from running in the same cycle", async (t) => {
  const w = await world(t, {
    drop: ["23100"],
    files: {
      "closed_prs_to_backfill.txt": "-- closed PRs, not downloaded yet\n10014\n15000\n23000\n",
      "stubborn_prs.txt": "4197\n11976\n",
      "missing_prs.txt": "23100\n",
      "redownload.txt": "20000\n",
    },
    faults: [
      { kind: "truncate", pr: 10014, query: "full" },
      { kind: "server-error", pr: 23000, query: "full", status: 502 },
    ],
    client: { retries: 0 },
  });
  // One download at a time, ties broken by PR number: the failing backfill of 10014 goes first.
  const r = await cycle(w, { concurrency: 1, random: () => 0 });
  t.like(r.plan[0], { pr: 10014, class: "backfill" });
  t.deepEqual(
    r.failed.map((f) => [f.pr, f.errorClass]).sort(),
    [[10014, "MalformedResponseError"], [23000, "ServerError"]],
  );
  t.deepEqual(
    r.downloaded.map((d) => [d.pr, d.query]).sort(),
    [[11976, "basic"], [15000, "full"], [20000, "full"], [23100, "full"]],
    "every other class ran: stubborn, missing, re-download, and the rest of the backfill",
  );
  t.is(r.stoppedEarly, undefined);
  t.is((await remotePull(w.bare, 11976, true)).number, 11976);
  t.is((await remotePull(w.bare, 15000)).number, 15000);
  t.is((await remotePull(w.bare, 23100)).number, 23100);
  t.is(await remoteText(w.bare, "closed_prs_to_backfill.txt"), "-- closed PRs, not downloaded yet\n10014\n23000\n");
  t.is((await remoteFiles(w.bare, "state/attempts/10014")).length, 1);
  t.is((await remoteFiles(w.bare, "state/attempts/23000")).length, 1);
  const message = (await git(w.bare, ["log", "-1", "--format=%B", "main"])).stdout;
  const prs = [...message.matchAll(/^Prstate-PR: (\d+)$/gm)].map((m) => Number(m[1])).sort((a, b) => a - b);
  t.deepEqual(prs, [10014, 11976, 15000, 20000, 23000, 23100], "one commit carries every outcome");
});

test("check --json on a repo that sync brought up to date reports zero findings; --fix then commits nothing", async (t) => {
  const w = await world(t, { drop: ["23100"], files: { "missing_prs.txt": "23100\n" } });
  const r = await cycle(w);
  t.deepEqual(r.downloaded.map((d) => d.pr), [23100]);
  const head = (await git(w.dir, ["rev-parse", "HEAD"])).stdout.trim();

  for (const extra of [[], ["--paranoid"], ["--fix"]]) {
    const res = await cli(["check", "--repo", w.dir, "--api-url", w.url, "--json", ...extra]);
    t.is(res.code, 0, res.stderr);
    const report = JSON.parse(res.stdout);
    t.like(report, { github: true, findings: [], byKind: {} }, `check ${extra.join(" ")}`);
    t.is(report.scanned, 5, "every PR with a record, the stubborn one's included");
  }
  t.is((await git(w.dir, ["rev-parse", "HEAD"])).stdout.trim(), head, "a clean repo gets no commit");
});

// ---------------------------------------------------------------------------------------
// Systemic failures: nobody's PR is to blame, so nothing is counted against one.

test("GitHub unreachable: the cycle changes nothing, counts no attempt, and the CLI exits 7", async (t) => {
  const w = await world(t, { drop: ["23100"], files: { "missing_prs.txt": "23100\n" } });
  const before = (await git(w.dir, ["rev-parse", "HEAD"])).stdout;
  const dead = createGitHub({ repository: REPOSITORY, apiUrl: "http://127.0.0.1:9", minWriteIntervalMs: 0, retries: 0 });
  await t.throwsAsync(runCycle({ repoDir: w.dir, github: dead, config: w.cfg, writer: "w" }), { instanceOf: ServerError });
  t.is((await git(w.dir, ["rev-parse", "HEAD"])).stdout, before, "no commit");
  t.is((await git(w.dir, ["status", "--porcelain"])).stdout, "", "nothing written");
  const res = await cli(["sync", "--repo", w.dir, "--api-url", "http://127.0.0.1:9", "--no-push"]);
  t.is(res.code, 7, res.stderr);
  t.is(res.stderr.trim().split("\n").filter((l) => l.startsWith("prstate: ")).length, 1, "one line says why");
  t.is((await git(w.dir, ["rev-parse", "HEAD"])).stdout, before);
});

test("connections dropped mid-cycle: what was downloaded is committed, no attempt is counted, the cycle fails", async (t) => {
  const w = await world(t, {
    drop: ["23100", "20000"],
    files: { "missing_prs.txt": "20000\n23100\n" },
    faults: [{ kind: "drop", pr: 23100 }],
    client: { retries: 0 },
  });
  // Both downloads start at once: one is answered, the other's connection is dropped.
  await t.throwsAsync(cycle(w, { concurrency: 2 }), { instanceOf: ServerError });
  const tree = (await git(w.bare, ["ls-tree", "-r", "--name-only", "main"])).stdout;
  t.regex(tree, /^data\/20000\/pr_info\.json$/m, "the other PR's download landed");
  t.notRegex(tree, /^state\/attempts\//m, "no attempt counted for an unreachable GitHub");
  t.regex((await remoteText(w.bare, "missing_prs.txt"))!, /^23100$/m, "still missing");
});

test("sync --spool removes spooled events only once the push has landed", async (t) => {
  const w = await world(t);
  const spoolDir = join(await tempDir(), "spool");
  const spool = new FileSpool(spoolDir);
  for (const id of ["d-1", "d-2"]) {
    await spool.write({ deliveryId: id, event: "pull_request", action: "labeled", receivedAt: new Date().toISOString(), payload: { number: 20000, pull_request: { number: 20000 } } });
  }
  // The remote refuses every push for now.
  const hook = join(w.bare, "hooks", "pre-receive");
  writeFileSync(hook, "#!/bin/sh\necho 'maintenance' >&2\nexit 1\n", { mode: 0o755 });
  await t.throwsAsync(runCycle({ repoDir: w.dir, github: w.gh, config: w.cfg, writer: "w", spoolDir, pushOptions: { baseDelayMs: 5, maxTries: 2 } }));
  t.is((await spool.list()).length, 2, "the events are still in the spool");
  rmSync(hook);
  const r = await runCycle({ repoDir: w.dir, github: w.gh, config: w.cfg, writer: "w", spoolDir, pushOptions: { baseDelayMs: 5 } });
  t.true(r.push?.pushed);
  t.is((await spool.list()).length, 0, "removed after the push");
  t.truthy(await remoteText(w.bare, "state/queue/20000/d-1.json"), "the events now live in the remote's queue (debounced)");
});
