// Two scheduled workflows at once: two `prstate sync` PROCESSES (the real CLI, with a token
// in GITHUB_TOKEN) on two clones of one bare data repo, against one GitHub simulator, for
// several rounds. Each clone also carries a list edit of its own (a PR only that writer
// downloads), and both download the PRs they have in common. Afterwards: both exited 0 every
// round, every commit either process made is in the remote history, the remote holds a valid
// record of every PR either downloaded and no list still names one, no conflict marker
// anywhere, the check finds nothing, and the token appears nowhere.
import test from "ava";
import { execFile } from "node:child_process";
import { cp, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../src/config/config.js";
import { install } from "../src/install/install.js";
import { runCheck } from "../src/integrity/run-check.js";
import { GitHubSimulator } from "../src/simulator/github-simulator.js";
import { scanRepo } from "../src/store/repo-scan.js";
import { validRecord } from "../src/state/pr-state.js";
import type { CycleReport } from "../src/sync/run-cycle.js";
import { cleanupTempDirs, cloneRepo, commitAll, git, GIT_ENV, initBareRemote, readText, tempDir, writeFiles } from "./helpers/git-repo.js";

test.after.always(cleanupTempDirs);

const FIXTURES = fileURLToPath(new URL("../../fixtures/", import.meta.url));
const MAIN = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const TOKEN = "ghp_SimulatedToken0123456789abcdefABCDEF";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function sync(repo: string, apiUrl: string, writer: string): Promise<Run> {
  // The CLI's client spaces GraphQL requests 1 s apart (github.com's advice); the override is for simulators and GHES.
  const env = { ...GIT_ENV, GITHUB_TOKEN: TOKEN, PRSTATE_MIN_REQUEST_INTERVAL_MS: "0" };
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, "sync", "--repo", repo, "--api-url", apiUrl, "--writer", writer, "--json"], { env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const lines = (text: string) => text.split("\n").map((l) => l.trim()).filter((l) => /^\d+$/.test(l)).map(Number);

test("two sync processes on two clones of one remote, three rounds: both land every time, nothing either downloaded is lost", async (t) => {
  const fixturesDir = await tempDir("prstate-fixtures-");
  for (const n of ["20000", "23000"]) await cp(join(FIXTURES, "data", n), join(fixturesDir, "data", n), { recursive: true });
  const sim = new GitHubSimulator({ fixturesDir, generate: 14, seed: 17, token: TOKEN });
  const url = await sim.start();
  t.teardown(() => sim.stop());

  const gen = sim.prs().filter((p) => p.number > 23000);
  const open = gen.filter((p) => p.state === "open").map((p) => p.number);
  const closed = gen.filter((p) => p.state === "closed").map((p) => p.number);
  t.is(open.length, 7);
  t.is(closed.length, 7);
  // Common work: every open PR is missing, four closed ones are to backfill. Each writer's own
  // work: one more closed PR per round, listed only in its clone.
  const perRound: Record<"A" | "B", (number | undefined)[]> = { A: [closed[4], closed[6], undefined], B: [closed[5], undefined, undefined] };
  const own = { A: [closed[4]!, closed[6]!], B: [closed[5]!] };
  const files: Record<string, string | Buffer> = {
    "prstate.yaml": "repository: leanprover-community/mathlib4\nthresholds:\n  debounceSeconds: 0\n",
    "missing_prs.txt": `-- open PRs first\n${open.join("\n")}\n`,
    "closed_prs_to_backfill.txt": `-- closed PRs, not downloaded yet\n${closed.slice(0, 4).join("\n")}\n`,
    "state/watermark.json": `${JSON.stringify({ updatedAt: new Date(sim.clock.now()).toISOString().replace(/\.\d{3}Z$/, "Z"), writer: "seed" })}\n`,
  };
  for (const n of ["20000", "23000"]) {
    for (const f of await readdir(join(FIXTURES, "data", n))) files[`data/${n}/${f}`] = await readFile(join(FIXTURES, "data", n, f));
  }
  const bare = await initBareRemote(files);
  const clones = { A: await cloneRepo(bare), B: await cloneRepo(bare) };
  for (const dir of Object.values(clones)) await install(dir);

  const reports: { writer: "A" | "B"; round: number; report: CycleReport }[] = [];
  const localCommits: string[] = [];
  for (let round = 0; round < 3; round++) {
    // Upstream activity both writers' polls see (the same updates, downloaded twice).
    sim.update(20000, { commentBody: `round ${round}` });
    sim.update(open[round]!, { labels: [`round-${round}`] });
    for (const w of ["A", "B"] as const) {
      const extra = perRound[w][round];
      if (extra === undefined) continue;
      const path = join(clones[w], "closed_prs_to_backfill.txt");
      await writeFiles(clones[w], { "closed_prs_to_backfill.txt": `${await readFile(path, "utf8")}${extra}\n` });
      localCommits.push(await commitAll(clones[w], `writer ${w}: backfill ${extra} too`));
    }
    const [a, b] = await Promise.all([sync(clones.A, url, `w-A`), sync(clones.B, url, `w-B`)]);
    for (const [w, run] of [["A", a], ["B", b]] as const) {
      t.is(run.code, 0, `round ${round}, writer ${w}: ${run.stderr}`);
      t.false(run.stdout.includes(TOKEN) || run.stderr.includes(TOKEN), "the token is never printed");
      const report = JSON.parse(run.stdout) as CycleReport;
      t.is(report.writer, `w-${w}`);
      t.deepEqual(report.failed, [], `round ${round}, writer ${w}: no failures`);
      t.true(report.push?.pushed === true || report.push?.upToDate === true, `round ${round}, writer ${w} pushed`);
      reports.push({ writer: w, round, report });
    }
  }

  const head = (await git(bare, ["rev-parse", "refs/heads/main"])).stdout.trim();
  const commits = [...reports.flatMap((r) => (r.report.commit ? [r.report.commit] : [])), ...localCommits];
  t.true(commits.length >= 6);
  for (const c of commits) {
    const ok = await git(bare, ["merge-base", "--is-ancestor", c, head], { allowFail: true });
    t.is(ok.code, 0, `commit ${c.slice(0, 10)} is in the remote history`);
  }
  t.true(reports.reduce((n, r) => n + (r.report.push?.merges ?? 0), 0) >= 1, "the writers really raced: some push had to merge");

  const downloaded = new Set(reports.flatMap((r) => r.report.downloaded.map((d) => d.pr)));
  for (const pr of [...open, ...closed.slice(0, 4), 20000]) t.true(downloaded.has(pr), `#${pr} was downloaded`);
  for (const pr of own.A) t.true(reports.some((r) => r.writer === "A" && r.report.downloaded.some((d) => d.pr === pr)), `writer A downloaded its own #${pr}`);
  for (const pr of own.B) t.true(reports.some((r) => r.writer === "B" && r.report.downloaded.some((d) => d.pr === pr)), `writer B downloaded its own #${pr}`);
  for (const pr of [...own.A, ...own.B]) t.false(reports.some((r) => r.writer !== (own.A.includes(pr) ? "A" : "B") && r.report.downloaded.some((d) => d.pr === pr)), `#${pr} only by its writer`);

  const v = await cloneRepo(bare);
  const scan = await scanRepo(v);
  for (const pr of downloaded) {
    const f = scan.prs.get(pr);
    t.truthy(f && validRecord(f), `#${pr}: a valid record on the remote`);
    t.is(f?.basic, undefined);
  }
  // The upstream changes of the last round are what the remote holds.
  t.is(validRecord(scan.prs.get(20000)!)?.updatedAt, sim.get(20000)!.updatedAt);
  t.is(validRecord(scan.prs.get(open[2]!)!)?.updatedAt, sim.get(open[2]!)!.updatedAt);
  t.deepEqual(lines(await readText(v, "missing_prs.txt")), [], "no list names a downloaded PR");
  t.deepEqual(lines(await readText(v, "closed_prs_to_backfill.txt")), []);
  t.true((await readText(v, "missing_prs.txt")).startsWith("-- open PRs first\n"));
  t.true((await readText(v, "closed_prs_to_backfill.txt")).startsWith("-- closed PRs, not downloaded yet\n"));
  const markers = await git(v, ["grep", "-n", "-E", "^(<<<<<<<|=======|>>>>>>>)( |$)"], { allowFail: true });
  t.is(markers.stdout, "", "no conflict markers");
  t.is((await git(v, ["status", "--porcelain"])).stdout, "");
  const check = await runCheck({ repoDir: v, config: await loadConfig(v), writer: "verify" });
  t.deepEqual(check.findings, [], "the offline check finds nothing");
  const everything = (await git(v, ["log", "--all", "--format=%B"])).stdout + (await git(v, ["grep", "-c", TOKEN], { allowFail: true })).stdout;
  t.false(everything.includes(TOKEN), "the token is in no commit message and no file");
});
