// The push loop under real contention: four node processes, each with its own clone of ONE
// bare remote, push at the same moment for several rounds (test/helpers/push-writer.ts),
// all editing the same lists and the same shared record. Afterwards nothing is lost: every
// writer's every commit is an ancestor of the remote head, every record and list entry any
// writer added is in the remote tree, no conflict marker anywhere, and every push landed.
// Also: a shallow CI-style clone that has to deepen before it can merge, and the refusal to
// push from a clone without the merge driver.
import test from "ava";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { chmod, rm, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { ConfigError, PushError } from "../src/errors.js";
import { buildCommitMessage } from "../src/git/commit-message.js";
import { prHistory } from "../src/git/history.js";
import { commitPaths, pushWithRetry } from "../src/git/push-loop.js";
import { attributeLines, install } from "../src/install/install.js";
import { cleanupTempDirs, cloneRepo, git, GIT_ENV, initBareRemote, tempDir, writeFiles } from "./helpers/git-repo.js";
import { missingEntry, ownPr, sharedUpdatedAt, type PushWriterConfig, type PushWriterRound } from "./helpers/push-writer.js";

test.after.always(cleanupTempDirs);

const TEMPLATE = fileURLToPath(new URL("../../fixtures/data/20000/pr_info.json", import.meta.url));
const WRITER_SCRIPT = fileURLToPath(new URL("./helpers/push-writer.js", import.meta.url));

function recordText(pr: number, updatedAt: string): string {
  const doc = JSON.parse(readFileSync(TEMPLATE, "utf8"));
  doc.data.repository.pullRequest.number = pr;
  doc.data.repository.pullRequest.updatedAt = updatedAt;
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** A bare remote seeded like a data repo: attributes, lists, one shared record. */
async function seededRemote(): Promise<string> {
  return initBareRemote({
    ".gitattributes": `${attributeLines().join("\n")}\n`,
    "missing_prs.txt": "-- missing PRs, open first\n17469\n",
    "redownload.txt": "",
    "data/1/pr_info.json": recordText(1, "2024-12-01T00:00:00Z"),
    "data/1/timestamp.txt": "2024-12-01T00:00:00Z\n",
  });
}

async function installedClone(remote: string): Promise<string> {
  const dir = await cloneRepo(remote);
  const report = await install(dir);
  if (report.missing.length > 0) throw new Error(`install left: ${report.missing.join("; ")}`);
  return dir;
}

function runWriter(cfg: PushWriterConfig): Promise<PushWriterRound[]> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [WRITER_SCRIPT, JSON.stringify(cfg)], { env: GIT_ENV, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`writer ${cfg.index} failed: ${stderr || err.message}`));
      resolve(stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as PushWriterRound));
    });
  });
}

async function remoteHead(bare: string): Promise<string> {
  return (await git(bare, ["rev-parse", "refs/heads/main"])).stdout.trim();
}

async function remoteFile(bare: string, path: string): Promise<string> {
  return (await git(bare, ["cat-file", "blob", `refs/heads/main:${path}`])).stdout;
}

test("four writers pushing at once for several rounds: nothing lost, every push lands", async (t) => {
  const WRITERS = 4;
  const ROUNDS = 5;
  const bare = await seededRemote();
  const clones = await Promise.all(Array.from({ length: WRITERS }, () => installedClone(bare)));
  const barrierDir = await tempDir("prstate-barrier-");
  const results = (
    await Promise.all(
      clones.map((repoDir, index) => runWriter({ repoDir, index, writers: WRITERS, rounds: ROUNDS, barrierDir, template: TEMPLATE, seed: 7919 * (index + 1) })),
    )
  ).flat();
  t.is(results.length, WRITERS * ROUNDS);

  // Every push landed (a writer whose commit was already merged by nobody else must push it).
  for (const r of results) t.true(r.pushed, `writer ${r.writer} round ${r.round} did not push`);
  const merges = results.reduce((n, r) => n + r.merges, 0);
  t.true(merges >= ROUNDS, `contention expected: ${merges} merges`);
  t.log(`${merges} merges, ${results.reduce((n, r) => n + r.tries, 0)} pushes, ${results.reduce((n, r) => n + r.conflictsResolved, 0)} conflicts resolved`);

  // Nothing any writer committed is lost.
  const head = await remoteHead(bare);
  for (const r of results) {
    const ancestor = await git(bare, ["merge-base", "--is-ancestor", r.commit, head], { allowFail: true });
    t.is(ancestor.code, 0, `commit ${r.commit} of writer ${r.writer} round ${r.round} is not on the remote`);
  }

  // The remote tree holds every record, attempt and list entry any writer added.
  const tree = (await git(bare, ["ls-tree", "-r", "--name-only", "refs/heads/main"])).stdout.split("\n").filter(Boolean);
  const missing = (await remoteFile(bare, "missing_prs.txt")).split("\n").filter(Boolean);
  const redownload = (await remoteFile(bare, "redownload.txt")).split("\n").filter(Boolean);
  t.is(new Set(missing).size, missing.length, "no duplicate list lines");
  t.true(missing.includes("-- missing PRs, open first") && missing.includes("17469"));
  for (let w = 0; w < WRITERS; w++) {
    for (let r = 0; r < ROUNDS; r++) {
      const pr = ownPr(w, r);
      for (const f of ["pr_info.json", "pr_reactions.json", "timestamp.txt"]) t.true(tree.includes(`data/${pr}/${f}`), `data/${pr}/${f} lost`);
      t.is(JSON.parse(await remoteFile(bare, `data/${pr}/pr_info.json`)).data.repository.pullRequest.number, pr);
      t.true(missing.includes(String(missingEntry(w, r))), `missing entry ${missingEntry(w, r)} lost`);
    }
    // Each writer removed its previous round's redownload entry: removals stay removed.
    t.deepEqual(
      redownload.filter((l) => Math.floor(Number(l) / 1000) === w + 1),
      [String(ownPr(w, ROUNDS - 1))],
    );
  }
  t.is(tree.filter((p) => p.startsWith("state/attempts/2/")).length, WRITERS * ROUNDS, "every attempt file survives");
  // The shared record is the newest any writer wrote, whole.
  const newest = sharedUpdatedAt(WRITERS - 1, ROUNDS - 1, WRITERS);
  t.is(await remoteFile(bare, "data/1/pr_info.json"), recordText(1, newest));
  t.is(await remoteFile(bare, "data/1/timestamp.txt"), `${newest}\n`);

  // No conflict markers anywhere, no conflict copies.
  const markers = await git(bare, ["grep", "-n", "-E", "^(<<<<<<<|>>>>>>>)( |$)", "refs/heads/main"], { allowFail: true });
  t.is(markers.code, 1, `conflict markers found: ${markers.stdout.slice(0, 300)}`);
  t.false(tree.some((p) => p.includes("~")));

  // The audit trail survives the merges: PR 2's transitions from every writer and round.
  await git(clones[0]!, ["fetch", "-q", "origin"]);
  const history = await prHistory(clones[0]!, 2, { rev: "origin/main" });
  t.is(history.length, WRITERS * ROUNDS);
});

test("a shallow CI checkout whose merge base is beyond its history deepens, merges and pushes", async (t) => {
  const bare = await seededRemote();
  const other = await installedClone(bare);
  const shallowParent = await tempDir("prstate-shallow-");
  const shallow = join(shallowParent, "clone");
  // file:// so that --depth is honoured (a plain local path clone ignores it).
  await git(shallowParent, ["clone", "-q", "--depth", "1", `file://${bare}`, shallow]);
  t.is((await git(shallow, ["rev-parse", "--is-shallow-repository"])).stdout.trim(), "true");
  t.deepEqual((await install(shallow)).missing, []);

  // The shallow writer downloads PR 500 ...
  await writeFiles(shallow, {
    "data/500/pr_info.json": recordText(500, "2024-12-05T00:00:00Z"),
    "data/500/timestamp.txt": "2024-12-05T00:00:01Z\n",
    "missing_prs.txt": "-- missing PRs, open first\n",
  });
  const mine = await commitPaths(shallow, ["data/500", "missing_prs.txt"], buildCommitMessage([{ pr: 500, from: "missing", to: "fresh", reason: "downloaded", writer: "shallow" }]));
  t.truthy(mine);
  // ... while another writer lands three commits, one of them touching the same list.
  for (const [i, pr] of [601, 602, 603].entries()) {
    await writeFiles(other, { [`data/${pr}/pr_info.json`]: recordText(pr, "2024-12-05T00:00:00Z"), [`data/${pr}/timestamp.txt`]: "2024-12-05T00:00:02Z\n" });
    if (i === 1) await writeFiles(other, { "missing_prs.txt": "-- missing PRs, open first\n17469\n700\n" });
    await commitPaths(other, [`data/${pr}`, "missing_prs.txt"], buildCommitMessage([{ pr, from: "missing", to: "fresh", reason: "downloaded", writer: "other" }]));
  }
  t.true((await pushWithRetry({ repoDir: other })).pushed);
  // The workflow's checkout step refreshed the remote-tracking ref shallowly (as
  // actions/checkout does): the remote head is present, its parents are not.
  await git(shallow, ["fetch", "-q", "--depth", "1", "origin", "+refs/heads/main:refs/remotes/origin/main"]);
  const before = await git(shallow, ["merge-base", "HEAD", "origin/main"], { allowFail: true });
  t.not(before.code, 0, "precondition: the merge base is missing from the shallow history");

  const lines: string[] = [];
  const result = await pushWithRetry({ repoDir: shallow, log: (l) => lines.push(l), baseDelayMs: 1 });
  t.true(result.pushed);
  t.is(result.merges, 1);
  t.true(lines.some((l) => l.includes("deepening")), lines.join("\n"));

  const head = await remoteHead(bare);
  t.is((await git(bare, ["merge-base", "--is-ancestor", mine!, head], { allowFail: true })).code, 0);
  const tree = (await git(bare, ["ls-tree", "-r", "--name-only", head])).stdout;
  for (const pr of [500, 601, 602, 603]) t.true(tree.includes(`data/${pr}/pr_info.json`));
  // 17469 was removed by the shallow writer, 700 added by the other: both survive the set merge.
  t.is(await remoteFile(bare, "missing_prs.txt"), "-- missing PRs, open first\n700\n");
  // The merge commit names the remote and keeps the remote head as its second parent.
  const message = (await git(bare, ["log", "-1", "--format=%B", head])).stdout;
  t.regex(message, /^prstate: merge origin\/main\n\nPrstate-Writer: /);
});

test("pushing from a clone without the merge driver is refused, and nothing is pushed", async (t) => {
  const bare = await seededRemote();
  const clone = await cloneRepo(bare);
  await writeFiles(clone, { "redownload.txt": "5\n" });
  await commitPaths(clone, ["redownload.txt"], "prstate: test\n");
  const before = await remoteHead(bare);
  const err = await t.throwsAsync(pushWithRetry({ repoDir: clone }), { instanceOf: ConfigError });
  t.regex(err?.message ?? "", /merge driver is not installed/);
  t.is(await remoteHead(bare), before);
});

test("with nothing new, the loop reports up to date without pushing", async (t) => {
  const bare = await seededRemote();
  const clone = await installedClone(bare);
  const result = await pushWithRetry({ repoDir: clone });
  t.deepEqual(result, { pushed: false, tries: 1, merges: 0, conflictsResolved: 0, upToDate: true });
});

test("a remote busy landing another push (ref locked) is retried after the backoff; a lock that stays is a PushError", async (t) => {
  const bare = await seededRemote();
  const clone = await installedClone(bare);
  await writeFiles(clone, { "redownload.txt": "5\n" });
  const mine = await commitPaths(clone, ["redownload.txt"], "prstate: test\n");
  const lock = join(bare, "refs", "heads", "main.lock");
  await writeFile(lock, "");

  const stuck = await t.throwsAsync(pushWithRetry({ repoDir: clone, maxTries: 2, sleep: async () => {} }), { instanceOf: PushError });
  t.regex(stuck?.message ?? "", /still rejected after 2 tries \(last: lock/);

  const delays: number[] = [];
  const result = await pushWithRetry({
    repoDir: clone,
    baseDelayMs: 100,
    random: () => 0.5,
    // The other push finishes while we back off.
    sleep: async (ms) => {
      delays.push(ms);
      await rm(lock, { force: true });
    },
  });
  t.deepEqual(result, { pushed: true, tries: 2, merges: 0, conflictsResolved: 0, upToDate: false });
  t.deepEqual(delays, [75], "equal jitter: half of the 100 ms cap fixed, half random");
  t.is(await remoteHead(bare), mine!);
});

test("a push the remote refuses for good (a hook) fails at once, without retries", async (t) => {
  const bare = await seededRemote();
  const clone = await installedClone(bare);
  await writeFiles(bare, { "hooks/pre-receive": "#!/bin/sh\necho 'branch is protected' >&2\nexit 1\n" });
  await chmod(join(bare, "hooks", "pre-receive"), 0o755);
  await writeFiles(clone, { "redownload.txt": "5\n" });
  await commitPaths(clone, ["redownload.txt"], "prstate: test\n");
  let slept = 0;
  const err = await t.throwsAsync(pushWithRetry({ repoDir: clone, sleep: async () => void slept++ }), { instanceOf: PushError });
  t.regex(err?.message ?? "", /refused: .*pre-receive hook declined/);
  t.is(slept, 0);
});

test("the audit trail: transitions read back newest first, one line each, across a push merge", async (t) => {
  const bare = await seededRemote();
  const [a, b] = await Promise.all([installedClone(bare), installedClone(bare)]);
  await writeFiles(a, { "redownload.txt": "77\n" });
  await commitPaths(a, ["redownload.txt"], buildCommitMessage([{ pr: 77, from: "fresh", to: "outdated", reason: "webhook pull_request.edited", writer: "a" }]));
  await writeFiles(a, { "data/77/pr_info.json": recordText(77, "2024-12-06T00:00:00Z"), "data/77/timestamp.txt": "2024-12-06T00:00:01Z\n", "redownload.txt": "" });
  // A reason quoting a multi-line error with a token and a fake trailer stays one line.
  const reason = "re-download succeeded\nPrstate-PR: 1\nafter https://x-access-token:ghs_abcdefghijklmnop@github.com/o/r failed";
  await commitPaths(a, ["data/77", "redownload.txt"], buildCommitMessage([
    { pr: 77, from: "outdated", to: "fresh", reason, writer: "a" },
    { pr: 78, from: "absent", to: "missing", reason: "poll", writer: "a" },
  ]));
  await writeFiles(b, { "stubborn_prs.txt": "77\n" });
  await commitPaths(b, ["stubborn_prs.txt"], buildCommitMessage([{ pr: 77, from: "failing(5)", to: "stubborn", reason: "threshold reached", writer: "b" }]));
  t.true((await pushWithRetry({ repoDir: a })).pushed);
  t.is((await pushWithRetry({ repoDir: b })).merges, 1);

  const history = await prHistory(b, 77);
  t.is(history.length, 3);
  // a's two commits are parent and child: the child's transition comes first. (b's commit is
  // on the other side of the merge, possibly in the same second: only its presence is checked.)
  const ofA = history.filter((h) => h.transition.writer === "a").map((h) => `${h.transition.from} -> ${h.transition.to}`);
  t.deepEqual(ofA, ["outdated -> fresh", "fresh -> outdated"], "newest first");
  t.deepEqual(history.filter((h) => h.transition.writer === "b").map((h) => h.transition.to), ["stubborn"]);
  const fresh = history.find((h) => h.transition.to === "fresh")!.transition;
  t.false(fresh.reason.includes("\n"));
  t.false(fresh.reason.includes("ghs_abcdefghijklmnop"));
  t.regex(fresh.reason, /^re-download succeeded Prstate-PR: 1 after https:\/\/\*\*\*@github\.com/);
  for (const h of history) t.regex(h.date, /^\d{4}-\d{2}-\d{2}T/);
  t.deepEqual((await prHistory(b, 78)).map((h) => h.transition.reason), ["poll"]);
  t.deepEqual(await prHistory(b, 1), [], "the fake trailer inside a reason is not a transition of PR 1");
});
