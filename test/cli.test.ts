// The CLI as a workflow runs it: `node dist/src/cli/main.js <command>` in a child process,
// exit codes and what lands on stdout/stderr. Usage errors are exit 2 with one line on
// stderr, configuration errors exit 3 and name the key, refused credentials exit 8, and the
// token never appears anywhere (outputs, files, commits).
import test from "ava";
import { execFile } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { install } from "../src/install/install.js";
import { enqueueEvent } from "../src/intake/queue-store.js";
import { GitHubSimulator } from "../src/simulator/github-simulator.js";
import { recordAttempt } from "../src/store/attempts-store.js";
import { cleanupTempDirs, cloneRepo, commitAll, git, GIT_ENV, initBareRemote, initRepo, tempDir, writeFiles } from "./helpers/git-repo.js";

const CLI = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const FIXTURES = fileURLToPath(new URL("../../fixtures/", import.meta.url));
const REPOSITORY = "leanprover-community/mathlib4";

test.after.always(cleanupTempDirs);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with a clean environment: no token or API URL leaks in from the machine. */
function prstate(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...GIT_ENV, ...opts.env };
  for (const k of ["GITHUB_TOKEN", "GH_TOKEN", "GITHUB_API_URL", "GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY"]) if (!(opts.env && k in opts.env)) delete env[k];
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env, cwd: opts.cwd ?? process.cwd() }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const oneLine = /^prstate: [^\n]+\n$/;

function fixtureRecord(name: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const file of readdirSync(join(FIXTURES, "data", name))) out[`data/${name}/${file}`] = readFileSync(join(FIXTURES, "data", name, file), "utf8");
  return out;
}

/** A committed data repo (no remote) with `files`. */
async function dataRepo(files: Record<string, string>): Promise<string> {
  const dir = await initRepo();
  await writeFiles(dir, files);
  await commitAll(dir, "seed");
  return dir;
}

test("unknown commands and bad options exit 2 with one line on stderr", async (t) => {
  const repo = await dataRepo({ "README.md": "data\n" });
  const cases: [string[], RegExp][] = [
    [["frobnicate"], /unknown command 'frobnicate'/],
    [["status", "--bogus"], /^prstate: status: Unknown option '--bogus'\n$/],
    [["status", "--repo"], /status: .*--repo.*argument missing/],
    [["check", "--json=yes", "--repo", repo], /check: .*--json.*does not take an argument/],
    [["status", "--repo", repo, "extra"], /status: unexpected argument 'extra'/],
    [["history", "1", "2", "--repo", repo], /history: unexpected argument '2'/],
    [["history", "--repo", repo], /history: which PR\?/],
    [["check", "--offline", "--paranoid", "--repo", repo], /--paranoid .* --offline/],
    [["status", "--repo", join(repo, "no-such-folder")], /--repo: not a folder: /],
    [["demo", "--cycles", "0"], /--cycles: expected 1\.\.99/],
  ];
  for (const [args, message] of cases) {
    const r = await prstate(args);
    t.is(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    t.regex(r.stderr, oneLine, args.join(" "));
    t.regex(r.stderr, message, args.join(" "));
    t.is(r.stdout, "", args.join(" "));
  }
  const bare = await prstate([]);
  t.is(bare.code, 2, "no command at all is a usage error");
  t.is(bare.stdout, "");
  t.regex(bare.stderr, /^usage: prstate <command>/m, "the help goes to stderr");
  const help = await prstate(["--help"]);
  t.is(help.code, 0);
  t.regex(help.stdout, /^  check +run the integrity checks/m);
  const commandHelp = await prstate(["check", "--help"]);
  t.is(commandHelp.code, 0);
  t.regex(commandHelp.stdout, /--fix/);
});

test("history with a bad PR number, or outside a repository, says so in one line", async (t) => {
  const repo = await dataRepo({ "README.md": "data\n" });
  for (const bad of ["12a", "../1", "0", "-3", "1e3"]) {
    const r = await prstate(["history", "--repo", repo, "--", bad]);
    t.is(r.code, 2, bad);
    t.is(r.stderr, `prstate: history: not a PR number: ${JSON.stringify(bad)}\n`, bad);
  }
  const plain = await tempDir();
  const outside = await prstate(["history", "12", "--repo", plain]);
  t.is(outside.code, 4);
  t.regex(outside.stderr, /^prstate: .* is not in a git repository \(.*\)\n$/);
  const none = await prstate(["history", "12", "--repo", repo]);
  t.is(none.code, 0);
  t.is(none.stdout, "#12: no transitions recorded\n");
});

test("install --check on an uninstalled clone exits 3 naming what is missing and changes nothing", async (t) => {
  const bare = await initBareRemote({ "missing_prs.txt": "1\n" });
  const clone = await cloneRepo(bare);
  const r = await prstate(["install", "--check", "--repo", clone]);
  t.is(r.code, 3);
  t.regex(r.stderr, /^missing: \.gitattributes: missing line "\/\*_prs\.txt merge=prstate"$/m);
  t.regex(r.stderr, /^missing: git config: merge\.prstate\.driver is not set$/m);
  t.regex(r.stderr.trimEnd().split("\n").at(-1)!, /^prstate: merge driver not installed in .*; run 'prstate install'$/);
  t.is((await git(clone, ["status", "--porcelain"])).stdout, "", "no file written");
  t.is((await git(clone, ["config", "--get-regexp", "^merge\\."], { allowFail: true })).stdout, "", "no config written");

  const installed = await prstate(["install", "--repo", clone]);
  t.is(installed.code, 0, installed.stderr);
  t.regex(installed.stdout, /^installed into /);
  const ok = await prstate(["install", "--check", "--repo", clone]);
  t.is(ok.code, 0, ok.stderr);
  t.is(ok.stderr, "");
  // A fresh checkout of a repo that committed .gitattributes still lacks the config half.
  await commitAll(clone, "install");
  await git(clone, ["push", "-q", "origin", "main"]);
  const ci = await cloneRepo(bare);
  const half = await prstate(["install", "--check", "--repo", ci]);
  t.is(half.code, 3);
  t.notRegex(half.stderr, /\.gitattributes/);
  t.regex(half.stderr, /merge\.prstate\.driver is not set/);
});

test("a bad prstate.yaml exits 3 with one line naming the key", async (t) => {
  const cases: [string, RegExp][] = [
    ["thresholds:\n  attemptsMissin: 3\n", /^prstate: thresholds\.attemptsMissin: unknown key\n$/],
    ["thresholds:\n  attemptsMissing: three\n", /^prstate: thresholds\.attemptsMissing: expected a whole number from 1 to 1000000000, got "three"\n$/],
    ["repositry: a/b\n", /^prstate: repositry: unknown key\n$/],
    ["repository: not-a-repository\n", /^prstate: repository: expected OWNER\/NAME/],
    ["budget:\n  shares:\n    events: 2\n", /^prstate: budget\.shares\.events: expected a fraction/],
    ["thresholds: [1, 2]\n", /^prstate: thresholds: expected a mapping\n$/],
    ["thresholds:\n  attemptsMissing: [\n", /^prstate: prstate\.yaml: not valid YAML: /],
  ];
  for (const [yaml, message] of cases) {
    const repo = await dataRepo({ "prstate.yaml": yaml });
    for (const args of [["status"], ["check", "--offline"], ["sync", "--no-push"]]) {
      const r = await prstate([...args, "--repo", repo]);
      t.is(r.code, 3, `${args[0]} with ${JSON.stringify(yaml)}: ${r.stderr}`);
      t.regex(r.stderr, oneLine);
      t.regex(r.stderr, message, `${args[0]} with ${JSON.stringify(yaml)}`);
    }
  }
});

test("the token never appears in any output, refused credentials exit 8, accepted ones work", async (t) => {
  const right = "prstate-right-token-7d1e";
  const wrong = "prstate-wrong-token-4f9c1a2b";
  const sim = new GitHubSimulator({ token: right });
  const url = await sim.start();
  t.teardown(() => sim.stop());
  // Every open PR already has its record; 1388 is to be downloaded and GitHub refuses its query
  // (a 422, not retried), so the accepted sync below writes an attempt file with the error text.
  sim.fault({ kind: "status", status: 422, pr: 1388, query: "full", body: { message: "Unprocessable" } });
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  const records: Record<string, string> = {};
  for (const name of ["10024", "19055", "20000", "23100", "4197-basic"]) Object.assign(records, fixtureRecord(name));
  const bare = await initBareRemote({
    ...records,
    "data/19055/timestamp.txt": `${now}\n`,
    "prstate.yaml": `repository: ${REPOSITORY}\n`,
    "stubborn_prs.txt": "4197\n",
    "closed_prs_to_backfill.txt": "1388\n",
    "state/watermark.json": `${JSON.stringify({ updatedAt: now, writer: "seed" })}\n`,
    "state/checks.json": `${JSON.stringify({ paranoid: now, stubbornRetry: now })}\n`,
  });
  const repo = await cloneRepo(bare);
  await install(repo);
  await commitAll(repo, "install");
  await git(repo, ["push", "-q", "origin", "main"]);

  const runs: [NodeJS.ProcessEnv, string[]][] = [
    ...[
      ["sync", "--repo", repo, "--api-url", url],
      ["sync", "--repo", repo, "--api-url", url, "--json"],
      ["check", "--repo", repo, "--api-url", url],
      ["check", "--repo", repo, "--api-url", url, "--paranoid", "--json"],
      ["redeliver", "--repo", repo, "--api-url", url],
    ].map((args): [NodeJS.ProcessEnv, string[]] => [{ GITHUB_TOKEN: wrong }, args]),
    [{ GH_TOKEN: wrong }, ["sync", "--repo", repo, "--api-url", url]],
    [{ GITHUB_TOKEN: wrong, GITHUB_API_URL: url }, ["check", "--repo", repo]],
  ];
  for (const [env, args] of runs) {
    const r = await prstate(args, { env });
    const what = `${args.filter((a) => !a.startsWith("/") && !a.startsWith("http")).join(" ")} with ${Object.keys(env).join("+")}`;
    t.is(r.code, 8, `${what}: ${r.stderr}`);
    t.regex(r.stderr.trimEnd().split("\n").at(-1)!, /^prstate: .*refused the credentials \(401\)/, what);
    t.false(`${r.stdout}${r.stderr}`.includes(wrong), `${what}: the token is not printed`);
  }
  t.true(sim.requests.unauthorized >= runs.length, "the simulator did refuse them");
  t.is((await git(repo, ["rev-parse", "HEAD"])).stdout, (await git(bare, ["rev-parse", "main"])).stdout, "a refused sync commits nothing");

  // The right token goes through (so the refusals above were about the token) and is not printed either.
  const ok = await prstate(["sync", "--repo", repo, "--api-url", url, "--writer", "cli-test"], { env: { GITHUB_TOKEN: right } });
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stdout, /^downloaded 0 PR\(s\), 1 failed$/m);
  const check = await prstate(["check", "--repo", repo, "--api-url", url, "--json"], { env: { GITHUB_TOKEN: right } });
  t.is(check.code, 0, check.stderr);
  t.like(JSON.parse(check.stdout), { github: true, findings: [] });
  for (const r of [ok, check]) t.false(`${r.stdout}${r.stderr}`.includes(right));
  // Nor in anything written: the attempt file with the error, commit messages, git config.
  const attempts = (await git(bare, ["ls-tree", "-r", "--name-only", "main", "--", "state/attempts/1388"])).stdout.trim().split("\n");
  t.is(attempts.length, 1);
  t.regex((await git(bare, ["show", `main:${attempts[0]}`])).stdout, /"message": ".*422/);
  const grep = await git(bare, ["grep", "-l", "-F", "-e", right, "-e", wrong, "main", "--"], { allowFail: true });
  t.is(grep.stdout, "");
  const log = (await git(bare, ["log", "--format=%B", "main"])).stdout;
  t.false(log.includes(right) || log.includes(wrong));
  t.false(readFileSync(join(repo, ".git/config"), "utf8").includes(right));
});

test("status --json has a fixed shape: counts per state, queue, stubborn, failing with backoff, watermark, jobs", async (t) => {
  const now = new Date();
  const repo = await dataRepo({
    ...fixtureRecord("20000"),
    ...fixtureRecord("4197-basic"),
    "missing_prs.txt": "23100\n-- second attempt for 19055\n19055\n",
    "stubborn_prs.txt": "4197\n",
    "state/watermark.json": `${JSON.stringify({ updatedAt: "2025-01-02T03:04:05Z", writer: "seed" })}\n`,
    "state/checks.json": `${JSON.stringify({ paranoid: "2025-01-02T00:00:00Z" })}\n`,
  });
  await recordAttempt(repo, 10024, { at: now, writer: "writer-a", errorClass: "TimeoutError", query: "full" });
  await enqueueEvent(repo, { deliveryId: "d-1", event: "pull_request", action: "labeled", receivedAt: now.toISOString(), pr: 20000, kind: "basic" });
  await enqueueEvent(repo, { deliveryId: "d-2", event: "issue_comment", action: "created", receivedAt: now.toISOString(), pr: 20000, kind: "full" });
  await commitAll(repo, "state");

  const r = await prstate(["status", "--repo", repo, "--json"]);
  t.is(r.code, 0, r.stderr);
  const status = JSON.parse(r.stdout);
  t.deepEqual(Object.keys(status), ["prs", "byState", "queueDepth", "queuedPrs", "stubborn", "failing", "watermark", "checks"]);
  t.deepEqual(status.byState, { "fresh (basic)": 1, failing: 2, outdated: 1, missing: 1 });
  t.like(status, { prs: 5, queueDepth: 2, queuedPrs: 1, stubborn: [4197], watermark: "2025-01-02T03:04:05Z", checks: { paranoid: "2025-01-02T00:00:00Z" } });
  t.is(status.failing.length, 2);
  const [f10024, f19055] = status.failing;
  t.like(f10024, { pr: 10024, attempts: 1, lastError: "TimeoutError", lastAt: now.toISOString() });
  t.true(Date.parse(f10024.dueAt) > now.getTime(), "the backoff after a failure is shown");
  t.deepEqual(f19055, { pr: 19055, attempts: 1, lastError: "legacy", lastAt: "1970-01-01T00:00:00.000Z" }, "a legacy comment holds nothing back");

  const text = await prstate(["status", "--repo", repo]);
  t.is(text.code, 0);
  t.regex(text.stdout, /^5 PR\(s\): fresh \(basic\) 1, failing 2, outdated 1, missing 1$/m);
  t.regex(text.stdout, /^  #10024: 1 attempt\(s\), last TimeoutError at .*; backing off until /m);
  t.regex(text.stdout, /^  #19055: 1 attempt\(s\), counted from older tooling's list comments$/m);

  const empty = await prstate(["status", "--repo", await dataRepo({ "README.md": "x\n" }), "--json"]);
  t.deepEqual(JSON.parse(empty.stdout), { prs: 0, byState: {}, queueDepth: 0, queuedPrs: 0, stubborn: [], failing: [], watermark: null, checks: {} });
});

test("check --fix of fixes that move no PR still commits, and refuses a tree with uncommitted edits", async (t) => {
  const repo = await dataRepo({ "stubborn_prs.txt": "-- note\n4197\n\n\n\n5901\n", "state/attempts/not-a-pr/x.json": "{}\n" });
  const dirty = `${readFileSync(join(repo, "stubborn_prs.txt"), "utf8")}6000\n`;
  await writeFiles(repo, { "stubborn_prs.txt": dirty });
  const refused = await prstate(["check", "--offline", "--fix", "--repo", repo]);
  t.is(refused.code, 4);
  t.regex(refused.stderr, /^prstate: .*uncommitted changes.*check --fix'\n$/);
  t.is(readFileSync(join(repo, "stubborn_prs.txt"), "utf8"), dirty, "the person's edit is untouched");
  await git(repo, ["checkout", "--", "stubborn_prs.txt"]);

  const r = await prstate(["check", "--offline", "--fix", "--json", "--repo", repo, "--writer", "fixer"]);
  t.is(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  t.deepEqual(report.findings.map((f: { kind: string }) => f.kind).sort(), ["duplicate-list-entries", "unexpected-entry"]);
  t.regex(report.fixed.commit, /^[0-9a-f]{40}$/);
  t.is(readFileSync(join(repo, "stubborn_prs.txt"), "utf8"), "-- note\n4197\n\n5901\n");
  t.is((await git(repo, ["log", "-1", "--format=%s"])).stdout.trim(), "prstate: integrity fixes (duplicate-list-entries 1, unexpected-entry 1)");
  t.is((await git(repo, ["status", "--porcelain"])).stdout, "", "everything it changed is committed");
  const again = await prstate(["check", "--offline", "--json", "--repo", repo]);
  t.deepEqual(JSON.parse(again.stdout).findings, []);
});

test("enqueue reads the Actions event from GITHUB_EVENT_NAME/PATH and stages it; push refuses unstaged edits before committing anything", async (t) => {
  const bare = await initBareRemote({ "missing_prs.txt": "1\n" });
  const repo = await cloneRepo(bare);
  t.is((await prstate(["install", "--repo", repo])).code, 0);
  await commitAll(repo, "install the prstate merge driver");
  const payload = join(repo, "..", "event.json");
  writeFileSync(payload, JSON.stringify({ action: "labeled", number: 20000, pull_request: { number: 20000 } }));
  const env = { GITHUB_EVENT_NAME: "pull_request_target", GITHUB_EVENT_PATH: payload };
  const queued = await prstate(["enqueue", "--repo", repo, "--json"], { env });
  t.is(queued.code, 0, queued.stderr);
  const path = JSON.parse(queued.stdout).queued[0] as string;
  t.regex(path, /^state\/queue\/20000\/gha-pull_request_target-[0-9a-f]{32}\.json$/);
  t.regex((await git(repo, ["diff", "--cached", "--name-only"])).stdout, new RegExp(`^${path}$`, "m"), "staged for push");

  // A person's unstaged edit next to it: push refuses before making any commit.
  const head = (await git(repo, ["rev-parse", "HEAD"])).stdout;
  writeFileSync(join(repo, "missing_prs.txt"), "1\n2\n");
  const refused = await prstate(["push", "--repo", repo]);
  t.is(refused.code, 4);
  t.regex(refused.stderr, /^prstate: .*unstaged changes.*\n$/);
  t.is((await git(repo, ["rev-parse", "HEAD"])).stdout, head, "no commit was made");
  await git(repo, ["checkout", "--", "missing_prs.txt"]);
  const pushed = await prstate(["push", "--repo", repo]);
  t.is(pushed.code, 0, pushed.stderr);
  t.is((await git(bare, ["show", `main:${path}`])).code, 0);
});

test("check reports list lines that are not PR numbers and leaves them for a person (exit 1 until they are mended)", async (t) => {
  const repo = await dataRepo({ "missing_prs.txt": "-- to download\n12\n#900\n 42abc\n" });
  const r = await prstate(["check", "--offline", "--json", "--repo", repo]);
  t.is(r.code, 1);
  const report = JSON.parse(r.stdout);
  t.deepEqual(report.findings.map((f: { kind: string; detail: string }) => [f.kind, f.detail]), [
    ["invalid-list-line", 'missing_prs.txt: "#900"'],
    ["invalid-list-line", 'missing_prs.txt: " 42abc"'],
  ]);
  const fixed = await prstate(["check", "--offline", "--fix", "--json", "--repo", repo]);
  t.is(fixed.code, 1, "nothing automatic may fix them");
  t.is(readFileSync(join(repo, "missing_prs.txt"), "utf8"), "-- to download\n12\n#900\n 42abc\n", "kept verbatim");
});

test("a broken state/watermark.json stops sync with a hint; check names it and --fix removes it", async (t) => {
  const repo = await dataRepo({ "missing_prs.txt": "12\n", "state/watermark.json": '{"updatedAt": "2025-01-0', "state/checks.json": "[]\n" });
  await install(repo);
  await commitAll(repo, "install");
  const sync = await prstate(["sync", "--repo", repo, "--repository", "a/b", "--api-url", "http://127.0.0.1:9", "--no-push"]);
  t.is(sync.code, 6);
  t.regex(sync.stderr, /^prstate: state\/watermark\.json is not valid JSON; 'prstate check --fix' removes it .*\n$/m);
  const check = await prstate(["check", "--offline", "--json", "--repo", repo]);
  t.is(check.code, 1);
  t.deepEqual(JSON.parse(check.stdout).findings.map((f: { kind: string; paths: string[] }) => [f.kind, f.paths]), [
    ["broken-state-file", ["state/watermark.json"]],
    ["broken-state-file", ["state/checks.json"]],
  ]);
  const fixed = await prstate(["check", "--offline", "--fix", "--repo", repo]);
  t.is(fixed.code, 0, fixed.stdout + fixed.stderr);
  t.deepEqual((await git(repo, ["show", "--name-status", "--format=", "HEAD"])).stdout.trim().split("\n").sort(), ["D\tstate/checks.json", "D\tstate/watermark.json"]);
  t.is(readFileSync(join(repo, "missing_prs.txt"), "utf8"), "12\n", "nothing else touched");
});

test("prstate.yaml branch: sync refuses a checkout of another branch, naming both", async (t) => {
  const repo = await dataRepo({ "prstate.yaml": "repository: a/b\nbranch: data\n" });
  await install(repo);
  await commitAll(repo, "install");
  const head = (await git(repo, ["rev-parse", "HEAD"])).stdout;
  const r = await prstate(["sync", "--repo", repo, "--api-url", "http://127.0.0.1:9", "--no-push"]);
  t.is(r.code, 3);
  t.regex(r.stderr, /^prstate: branch: prstate\.yaml names 'data', but .* has 'main' checked out; check out 'data'\n$/m);
  t.is((await git(repo, ["rev-parse", "HEAD"])).stdout, head, "nothing committed");
});
