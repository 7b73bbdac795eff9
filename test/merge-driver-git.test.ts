// The merge driver through real git: bare remote + clones, `prstate install` in each clone,
// then `git merge`, `git pull --rebase` and `git cherry-pick` of concurrent changes to the
// same list files and the same PR record, in both directions.
import test from "ava";
import { spawnSync } from "node:child_process";
import { mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { install, checkInstalled, driverCommand, driverScriptPath } from "../src/install/install.js";
import { parseList, removeEntries, serializeList } from "../src/lists/list-file.js";
import { LIST_FILES } from "../src/layout.js";
import { DRIVER_NAME, DRIVER_STRATEGIES } from "../src/merge/merge-for-path.js";
import { cleanupTempDirs, cloneRepo, commitAll, git, initBareRemote, readText, tempDir, writeFiles } from "./helpers/git-repo.js";

test.after.always(cleanupTempDirs);

const fixture = (path: string) => readFileSync(join(process.cwd(), "fixtures", path), "utf8");

// The base record: the real PR 19055 record with an earlier updatedAt, so that both sides'
// downloads (the stored one at 22:48:34Z and the later one at 23:29:51Z) change it.
const RECORD_PATH = "data/19055/pr_info.json";
const OLDER = fixture("data/19055/pr_info.json");
const NEWER = fixture("versions/19055/pr_info.4d3543b9.json");
const BASE_RECORD = (() => {
  const doc = JSON.parse(OLDER);
  doc.data.repository.pullRequest.updatedAt = "2024-11-14T22:10:00Z";
  return JSON.stringify(doc, null, 2) + "\n";
})();
const MISSING = fixture("lists/missing_prs.853d33aa.txt");
const STUBBORN = fixture("lists/stubborn_prs.02a49d79.txt");
const DOWNLOADED = 16988; // in MISSING: one side downloads it and removes it from the list

const BASE: Record<string, string> = {
  "missing_prs.txt": MISSING,
  "stubborn_prs.txt": STUBBORN,
  [RECORD_PATH]: BASE_RECORD,
  "data/19055/timestamp.txt": "2024-11-14T22:12:00Z\n",
};

/** The side that fetched PR 19055 later: appends to both lists, stores the newer record. */
const newerSide: Record<string, string> = {
  "missing_prs.txt": MISSING + "30001\n30002\n",
  "stubborn_prs.txt": STUBBORN + "-- second attempt for 30005\n30005\n",
  [RECORD_PATH]: NEWER,
  "data/19055/timestamp.txt": "2024-11-14T23:31:00Z\n",
};

/** The other side: downloaded PR 16988 (so removes it), dropped 16023 from stubborn, older record. */
const olderSide: Record<string, string> = {
  "missing_prs.txt": serializeList(removeEntries(parseList(MISSING), [DOWNLOADED])),
  "stubborn_prs.txt": serializeList(removeEntries(parseList(STUBBORN), [16023])),
  [RECORD_PATH]: OLDER,
  "data/19055/timestamp.txt": "2024-11-14T22:51:00Z\n",
  [`data/${DOWNLOADED}/pr_info.json`]: fixture("data/20000/pr_info.json"),
};

const EXPECTED: Record<string, string> = {
  "missing_prs.txt": olderSide["missing_prs.txt"] + "30001\n30002\n",
  "stubborn_prs.txt": olderSide["stubborn_prs.txt"] + "-- second attempt for 30005\n30005\n",
  [RECORD_PATH]: NEWER,
  "data/19055/timestamp.txt": "2024-11-14T23:31:00Z\n",
  [`data/${DOWNLOADED}/pr_info.json`]: fixture("data/20000/pr_info.json"),
};

/** A remote seeded with `files`, where clone `a` ran install and pushed .gitattributes; `b` cloned after and installed. */
async function installedPair(files: Record<string, string> = BASE) {
  const remote = await initBareRemote(files);
  const a = await cloneRepo(remote);
  const reportA = await install(a);
  await commitAll(a, "prstate install");
  await git(a, ["push", "-q", "origin", "main"]);
  const b = await cloneRepo(remote);
  const reportB = await install(b);
  return { remote, a, b, reportA, reportB };
}

async function assertClean(t: import("ava").ExecutionContext, dir: string) {
  t.is((await git(dir, ["ls-files", "-u"])).stdout, "", "no unmerged entries");
  t.is((await git(dir, ["status", "--porcelain"])).stdout, "", "work tree clean and committed");
  const markers = await git(dir, ["grep", "-l", "-E", "^(<<<<<<<|>>>>>>>|=======$)"], { allowFail: true });
  t.is(markers.stdout, "", "no conflict markers");
}

type Op = "merge" | "pull --rebase" | "cherry-pick";

async function runOp(dir: string, op: Op) {
  if (op === "merge") return git(dir, ["pull", "-q", "--no-rebase", "--no-edit", "origin", "main"], { allowFail: true });
  if (op === "pull --rebase") return git(dir, ["pull", "-q", "--rebase", "origin", "main"], { allowFail: true });
  await git(dir, ["fetch", "-q", "origin"]);
  return git(dir, ["cherry-pick", "origin/main"], { allowFail: true });
}

for (const op of ["merge", "pull --rebase", "cherry-pick"] as Op[]) {
  for (const local of ["older", "newer"] as const) {
    test(`git ${op}: lists set-merged exactly, newer record wins (local side ${local})`, async (t) => {
      const { a, b } = await installedPair();
      // `a` pushes first; `b` then brings a's commit into its own with `op`.
      const [pushed, kept] = local === "older" ? [newerSide, olderSide] : [olderSide, newerSide];
      await writeFiles(a, pushed);
      await commitAll(a, "a: concurrent writer");
      await git(a, ["push", "-q", "origin", "main"]);
      await writeFiles(b, kept);
      await commitAll(b, "b: concurrent writer");

      const r = await runOp(b, op);
      t.is(r.code, 0, `${op} failed: ${r.stdout}${r.stderr}`);
      await assertClean(t, b);
      for (const [path, content] of Object.entries(EXPECTED)) t.is(await readText(b, path), content, path);
      // The result is a real commit on top of a's: b can push it without force.
      await git(b, ["push", "-q", "origin", op === "cherry-pick" ? "HEAD:refs/heads/picked" : "main"]);
    });
  }
}

test("git merge in the other direction gives the same bytes", async (t) => {
  const { a, b } = await installedPair();
  await writeFiles(a, newerSide);
  await commitAll(a, "a");
  await writeFiles(b, olderSide);
  await commitAll(b, "b");
  await git(b, ["push", "-q", "origin", "main"]);
  await git(a, ["fetch", "-q", "origin"]);
  // a merges b's branch, b merges a's: contents of every file must agree.
  await git(b, ["fetch", "-q", a, "main:from-a"]);
  t.is((await git(a, ["merge", "-q", "--no-edit", "origin/main"], { allowFail: true })).code, 0);
  t.is((await git(b, ["merge", "-q", "--no-edit", "from-a"], { allowFail: true })).code, 0);
  await assertClean(t, a);
  await assertClean(t, b);
  const treeA = (await git(a, ["rev-parse", "HEAD^{tree}"])).stdout;
  const treeB = (await git(b, ["rev-parse", "HEAD^{tree}"])).stdout;
  t.is(treeA, treeB, "same tree whichever side merges");
});

test("neither side parses: git reports a real conflict, the driver leaves ours untouched", async (t) => {
  const { a, b } = await installedPair();
  await writeFiles(a, { [RECORD_PATH]: '{"data": {"repository": ' });
  await commitAll(a, "a: truncated download");
  await git(a, ["push", "-q", "origin", "main"]);
  const ours = '{"errors": [{"type": "TIMEOUT"}]}\n';
  await writeFiles(b, { [RECORD_PATH]: ours, "missing_prs.txt": MISSING + "30009\n" });
  await commitAll(b, "b: error response stored");

  const r = await git(b, ["pull", "--no-rebase", "--no-edit", "origin", "main"], { allowFail: true });
  t.not(r.code, 0);
  t.regex(r.stdout + r.stderr, /CONFLICT \(content\).*data\/19055\/pr_info\.json/);
  const driverLines = (r.stdout + r.stderr).split("\n").filter((l) => l.startsWith("prstate merge driver:"));
  t.deepEqual(driverLines, [`prstate merge driver: ${RECORD_PATH}: neither side is a valid PR record (ours: no data.repository.pullRequest (or has errors); theirs: not JSON)`]);
  const unmerged = (await git(b, ["ls-files", "-u", "--", RECORD_PATH])).stdout.trim().split("\n");
  t.is(unmerged.length, 3, "base, ours and theirs stages recorded");
  t.is(await readText(b, RECORD_PATH), ours, "work tree holds ours untouched, no markers");
  t.is(await readText(b, "missing_prs.txt"), MISSING + "30009\n", "other paths still merged");
});

test("driver run directly: one side broken loses; neither parses leaves %A untouched, exit 1, one stderr line", async (t) => {
  const dir = await tempDir();
  const files = { O: BASE_RECORD, A: "{ not json", B: NEWER };
  await writeFiles(dir, files);
  const run = (...args: string[]) => spawnSync(process.execPath, [driverScriptPath(), ...args], { cwd: dir, encoding: "utf8" });

  let r = run("O", "A", "B", RECORD_PATH);
  t.is(r.status, 0, r.stderr);
  t.is(await readText(dir, "A"), NEWER, "the valid side wins");

  await writeFiles(dir, { A: "{ not json", B: "[1, 2" });
  r = run("O", "A", "B", RECORD_PATH);
  t.is(r.status, 1);
  t.is(r.stderr.split("\n").filter(Boolean).length, 1);
  t.regex(r.stderr, /^prstate merge driver: data\/19055\/pr_info\.json: neither side is a valid PR record/);
  t.is(await readText(dir, "A"), "{ not json");
  t.deepEqual((await readdir(dir)).sort(), ["A", "B", "O"], "no temp file left behind");

  r = run("O", "A");
  t.is(r.status, 1);
  t.regex(r.stderr, /expected 4 arguments/);
  r = run("O", "missing-file", "B", RECORD_PATH);
  t.is(r.status, 1);
  t.regex(r.stderr, /cannot read the merge inputs/);
});

test("install writes the table, routes exactly those paths, and is idempotent", async (t) => {
  const userLines = "*.png binary\r\n/missing_prs.txt text eol=lf\r\n";
  const { a, b, reportA, reportB } = await installedPair({ ...BASE, ".gitattributes": userLines });
  t.deepEqual(reportA.missing, []);
  t.true(reportA.changed.some((c) => c.startsWith(".gitattributes")));
  t.true(reportA.changed.includes(`git config: set merge.${DRIVER_NAME}.driver`));
  t.false(reportB.changed.some((c) => c.startsWith(".gitattributes")), "b got the lines from the remote");
  t.deepEqual(reportB.missing, []);

  const attributes = await readText(a, ".gitattributes");
  t.true(attributes.startsWith(userLines), "the user's lines are kept as they were");
  for (const row of DRIVER_STRATEGIES) t.true(attributes.includes(`${row.pattern} merge=${DRIVER_NAME}\r\n`), row.pattern);

  const configBefore = (await git(a, ["config", "--local", "--list"])).stdout;
  const again = await install(a);
  t.deepEqual(again.changed, []);
  t.deepEqual(again.missing, []);
  t.is(await readText(a, ".gitattributes"), attributes);
  t.is((await git(a, ["config", "--local", "--list"])).stdout, configBefore);
  t.is((await git(a, ["config", "--get", `merge.${DRIVER_NAME}.driver`])).stdout.trim(), driverCommand());
  t.true(driverCommand().startsWith(process.execPath.includes(" ") ? "'" : process.execPath), "absolute node path");

  // Real git agrees with the table: every sample routes to the driver, other paths do not.
  // Every list file classifyPath knows must be routed, whatever its name.
  const routedPaths = [...DRIVER_STRATEGIES.map((row) => row.sample), ...Object.values(LIST_FILES), "data/23000-basic/timestamp.txt", "other_prs.txt"];
  const notRouted = ["sub/missing_prs.txt", "README.md", "state/queue/5/x.json", "data/19055/notes.txt"];
  const attrs = (await git(b, ["check-attr", "merge", "--", ...routedPaths, ...notRouted])).stdout.trim().split("\n");
  const routed = attrs.filter((l) => l.endsWith(`merge: ${DRIVER_NAME}`)).map((l) => l.split(":")[0]);
  t.deepEqual(routed, routedPaths);
});

test("install --check on a fresh clone reports the missing config and changes nothing", async (t) => {
  const { remote } = await installedPair();
  const fresh = await cloneRepo(remote);
  const before = (await git(fresh, ["config", "--local", "--list"])).stdout;
  const report = await install(fresh, { check: true });
  t.deepEqual(report.changed, []);
  t.deepEqual(report.missing, [`git config: merge.${DRIVER_NAME}.driver is not set`, `git config: merge.${DRIVER_NAME}.name is not set`]);
  t.deepEqual(await checkInstalled(fresh), report.missing);
  t.is((await git(fresh, ["config", "--local", "--list"])).stdout, before);

  // A clone of a repo that never ran install lacks the attribute lines too.
  const bare = await initBareRemote(BASE);
  const never = await cloneRepo(bare);
  const missing = await checkInstalled(never);
  t.is(missing.filter((m) => m.startsWith(".gitattributes: missing line")).length, DRIVER_STRATEGIES.length);
  await t.throwsAsync(install(await tempDir(), { check: true }), { message: /is not a git work tree/ });
});

test("check finds a user line that overrides prstate's, and a driver command that points elsewhere", async (t) => {
  const { a } = await installedPair();
  await writeFile(join(a, ".gitattributes"), (await readText(a, ".gitattributes")) + "data/**/pr_info.json merge=union\n");
  await git(a, ["config", `merge.${DRIVER_NAME}.driver`, "node /old/checkout/main.js %O %A %B %P"]);
  const missing = await checkInstalled(a);
  t.deepEqual(missing, [
    `.gitattributes: data/1/pr_info.json resolves to merge=union, not merge=${DRIVER_NAME} (a later line overrides prstate's)`,
    `git config: merge.${DRIVER_NAME}.driver is "node /old/checkout/main.js %O %A %B %P", expected "${driverCommand()}"`,
  ]);
  const report = await install(a);
  t.deepEqual(report.changed, [`git config: set merge.${DRIVER_NAME}.driver`]);
  t.is(report.missing.length, 1, "install does not rewrite the user's own line; it reports it");
});

test("driver command with spaces and quotes in its paths still runs through git's shell", async (t) => {
  const { a, b } = await installedPair();
  const odd = join(await tempDir(), "it's a dir with spaces");
  await mkdir(odd);
  await symlink(process.execPath, join(odd, "node bin"));
  await symlink(driverScriptPath(), join(odd, "main $x.js"));
  await git(b, ["config", `merge.${DRIVER_NAME}.driver`, driverCommand(join(odd, "node bin"), join(odd, "main $x.js"))]);

  await writeFiles(a, { "missing_prs.txt": MISSING + "30001\n" });
  await commitAll(a, "a");
  await git(a, ["push", "-q", "origin", "main"]);
  await writeFiles(b, { "missing_prs.txt": olderSide["missing_prs.txt"]! });
  await commitAll(b, "b");
  const r = await runOp(b, "merge");
  t.is(r.code, 0, r.stderr);
  t.is(await readFile(join(b, "missing_prs.txt"), "utf8"), olderSide["missing_prs.txt"] + "30001\n");
});
