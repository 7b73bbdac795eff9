// `prstate demo`: the main job end to end on the embedded default. A GitHub simulator on
// 127.0.0.1 serves the real recorded fixtures (plus generated PRs); a bare "remote" data repo
// is seeded from them; two sync writers run concurrently for several cycles, as two
// scheduled workflows would, next to a legacy workflow that edits a list and uses plain
// `git pull --rebase`; faults are injected; a burst of signed webhook deliveries goes through
// the receiver. The report ends with a verdict that nothing any writer committed was lost.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../config/config.js";
import { errorMessage } from "../errors.js";
import { createGitHub } from "../github/client.js";
import { runGit } from "../git/git-cli.js";
import { runCheck } from "../integrity/run-check.js";
import { GitHubSimulator } from "../simulator/github-simulator.js";
import { scanRepo } from "../store/repo-scan.js";
import { validRecord } from "../state/pr-state.js";
import { runCycle, type CycleReport } from "../sync/run-cycle.js";
import { startReceiver } from "../../hooks/http-receiver.js";
import { signBody } from "../../hooks/receiver-core.js";
import { cloneWriter, DEMO_GIT_ENV, seedDataRepo } from "./seed-data-repo.js";

export interface DemoOptions {
  cycles: number;
  keep?: boolean;
  log?: (line: string) => void;
}

export interface DemoReport {
  folder?: string;
  cycles: number;
  downloads: number;
  distinctPrsDownloaded: number;
  failuresByKind: Record<string, number>;
  becameStubborn: number[];
  pushRetries: number;
  merges: number;
  conflictsResolved: number;
  webhooks: { sent: number; accepted: number; duplicates: number; queued: number; workItems: number; downloads: number; coalescing: string };
  verdict: { ok: boolean; problems: string[]; checkFindings: number; commitsChecked: number; recordsChecked: number };
}

const WEBHOOK_SECRET = "prstate-demo-secret";

export async function runDemo(opts: DemoOptions): Promise<DemoReport> {
  const log = opts.log ?? (() => undefined);
  const root = await mkdtemp(join(tmpdir(), "prstate-demo-"));
  const sim = new GitHubSimulator({ generate: 40, seed: 7 });
  const url = await sim.start();
  try {
    return await demo(root, sim, url, opts, log);
  } finally {
    await sim.stop();
    if (!opts.keep) await rm(root, { recursive: true, force: true });
  }
}

async function demo(root: string, sim: GitHubSimulator, url: string, opts: DemoOptions, log: (line: string) => void): Promise<DemoReport> {
  log(`GitHub simulator on ${url}: ${sim.prs().length} PRs (${sim.prs().filter((p) => p.state === "open").length} open) from the recorded fixtures`);
  const seeded = await seedDataRepo(root, sim);
  log(`data repo seeded: ${seeded.missing.length} missing, ${seeded.backfill.length} to backfill, 1 stubborn, 1 outdated, 1 broken record`);
  const writers = { A: await cloneWriter(root, seeded.bare, "writer-a"), B: await cloneWriter(root, seeded.bare, "writer-b") };
  const legacy = await cloneWriter(root, seeded.bare, "legacy-workflow");

  // Faults: a PR whose full query always fails, rate limits with Retry-After, a truncated body, slow answers.
  sim.fault({ kind: "server-error", pr: seeded.huge, query: "full", status: 502, delayMs: 200 });
  sim.fault({ kind: "rate-limit", status: 429, retryAfter: 1, path: "/graphql", times: 1, after: 5 });
  sim.fault({ kind: "secondary-rate-limit", status: 403, retryAfter: 1, path: "/graphql", times: 1, after: 25 });
  sim.fault({ kind: "truncate", pr: seeded.missing[1]!, query: "full", times: 1 });
  sim.fault({ kind: "slow", path: "/graphql", delayMs: 300, times: 3, after: 10 });

  const cfg = await loadConfig(writers.A);
  const client = (name: string) =>
    createGitHub({
      repository: `${sim.owner}/${sim.repo}`,
      apiUrl: url,
      // A local simulator: no need to space requests as GitHub asks.
      minWriteIntervalMs: 0,
      retryBaseDelayMs: 50,
      secondaryRateLimitWaitMs: 1000,
      // Retried 5xx answers are expected here (injected); rate-limit waits are worth showing.
      log: (l) => {
        if (/rate limit/.test(l)) log(`  [${name}] ${l}`);
      },
    });
  const reports: CycleReport[] = [];
  const cycle = async (name: "A" | "B", extra: { spoolDir?: string } = {}) => {
    const r = await runCycle({
      repoDir: writers[name],
      github: client(name),
      config: cfg,
      writer: `demo-writer-${name}`,
      pushOptions: { baseDelayMs: 50 },
      ...extra,
    });
    reports.push(r);
    const push = r.push ? `${r.push.tries} push tr${r.push.tries === 1 ? "y" : "ies"}, ${r.push.merges} merge(s)` : "no push";
    log(`  writer ${name}: ${r.downloaded.length} downloaded, ${r.failed.length} failed${r.becameStubborn.length ? `, #${r.becameStubborn.join(" #")} became stubborn` : ""}; ${push}`);
    return r;
  };

  for (let round = 1; round <= opts.cycles; round++) {
    log(`cycle ${round}: two writers at once, the legacy workflow edits a list`);
    changeUpstream(sim, round);
    await Promise.all([cycle("A"), cycle("B"), legacyListEdit(legacy, round)]);
    await sleep(1100); // past the demo's 1 s backoff base
  }

  // A burst of webhook deliveries through the receiver, drained and coalesced by writer A.
  log("webhook burst: signed deliveries through prstate serve, drained by sync --spool");
  const spoolDir = join(root, "spool");
  const receiver = await startReceiver({ port: 0, secret: WEBHOOK_SECRET, spoolDir, log: () => undefined });
  let burst;
  try {
    burst = await sendBurst(receiver.url, sim);
  } finally {
    await receiver.close();
  }
  const drained = await cycle("A", { spoolDir });
  const webhookDownloads = drained.downloaded.length;

  // Settle: both writers run once more, then the remote is verified from a fresh clone.
  log("settling: one more cycle per writer");
  await sleep(1100);
  await Promise.all([cycle("A"), cycle("B")]);
  const verdict = await verify(root, seeded.bare, reports, legacy, sim, url);

  const failuresByKind: Record<string, number> = {};
  for (const r of reports) for (const f of r.failed) failuresByKind[f.errorClass] = (failuresByKind[f.errorClass] ?? 0) + 1;
  const pushes = reports.flatMap((r) => (r.push ? [r.push] : []));
  const report: DemoReport = {
    ...(opts.keep ? { folder: root } : {}),
    cycles: opts.cycles,
    downloads: reports.reduce((n, r) => n + r.downloaded.length, 0),
    distinctPrsDownloaded: new Set(reports.flatMap((r) => r.downloaded.map((d) => d.pr))).size,
    failuresByKind,
    becameStubborn: [...new Set(reports.flatMap((r) => r.becameStubborn))],
    pushRetries: pushes.reduce((n, p) => n + Math.max(0, p.tries - 1), 0),
    merges: pushes.reduce((n, p) => n + p.merges, 0),
    conflictsResolved: pushes.reduce((n, p) => n + p.conflictsResolved, 0),
    webhooks: {
      ...burst,
      queued: drained.queue.events,
      workItems: drained.queue.coalescedInto,
      downloads: webhookDownloads,
      coalescing: `${burst.accepted - burst.duplicates} distinct events -> ${drained.queue.coalescedInto} work items (${((burst.accepted - burst.duplicates) / Math.max(1, drained.queue.coalescedInto)).toFixed(1)}x fewer downloads than one per event)`,
    },
    verdict,
  };

  log("");
  log("report");
  log(`  PRs downloaded:        ${report.downloads} downloads of ${report.distinctPrsDownloaded} distinct PRs`);
  log(`  conflicts resolved:    ${report.conflictsResolved} paths changed on both sides, merged in ${report.merges} in-process merges; every legacy git pull --rebase went through the driver`);
  log(`  push retries:          ${report.pushRetries}`);
  log(`  failures by kind:      ${Object.entries(failuresByKind).map(([k, n]) => `${k} ${n}`).join(", ") || "none"}`);
  log(`  became stubborn:       ${report.becameStubborn.map((n) => `#${n}`).join(" ") || "none"}`);
  log(`  webhooks:              ${report.webhooks.sent} deliveries sent, ${report.webhooks.accepted} acknowledged with 202, ${report.webhooks.duplicates} of them redeliveries stored once`);
  log(`  coalescing:            ${report.webhooks.coalescing}`);
  log(`  prstate check:         ${verdict.checkFindings} finding(s) on the final remote`);
  log(
    verdict.ok
      ? `VERDICT: nothing lost: all ${verdict.commitsChecked} writer commits are in the remote history, all ${verdict.recordsChecked} downloaded records are present and valid, no conflict markers, check clean`
      : `VERDICT: PROBLEMS: ${verdict.problems.join("; ")}`,
  );
  if (opts.keep) log(`demo folder kept: ${root}`);
  return report;
}

/** What happens upstream between cycles: reviews, labels, a force-push that keeps updatedAt. */
function changeUpstream(sim: GitHubSimulator, round: number): void {
  const open = sim.prs().filter((p) => p.state === "open");
  const pick = (i: number) => open[(round * 7 + i * 5) % open.length]!;
  sim.update(pick(0).number, { labels: [...pick(0).labels, `demo-round-${round}`] });
  sim.update(pick(1).number, { commentBody: `review comment in round ${round}` });
  sim.update(pick(2).number, { headSha: (round.toString(16) + "f".repeat(40)).slice(0, 40), bumpUpdatedAt: false });
}

/** An existing workflow that appends to a list and pushes with plain git; the driver merges it. */
async function legacyListEdit(dir: string, round: number): Promise<void> {
  await runGit(dir, ["pull", "--quiet", "--rebase", "origin", "main"], { env: DEMO_GIT_ENV });
  const path = join(dir, "closed_prs_to_backfill.txt");
  const text = await readFile(path, "utf8");
  await writeFile(path, `${text}-- noted by the legacy workflow, round ${round}\n`);
  await runGit(dir, ["commit", "--quiet", "-am", `legacy workflow: note round ${round}`], { env: DEMO_GIT_ENV });
  for (let i = 0; i < 10; i++) {
    const pushed = await runGit(dir, ["push", "--quiet", "origin", "HEAD:main"], { okCodes: [1] });
    if (pushed.code === 0) return;
    await runGit(dir, ["pull", "--quiet", "--rebase", "origin", "main"], { env: DEMO_GIT_ENV });
  }
  throw new Error("the legacy workflow could not push in 10 tries");
}

async function sendBurst(url: string, sim: GitHubSimulator): Promise<{ sent: number; accepted: number; duplicates: number }> {
  const open = sim.prs().filter((p) => p.state === "open").slice(0, 15);
  let sent = 0;
  let accepted = 0;
  let duplicates = 0;
  const post = async (event: string, delivery: string, payload: unknown) => {
    const body = JSON.stringify(payload);
    sent++;
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-github-event": event, "x-github-delivery": delivery, "x-hub-signature-256": signBody(WEBHOOK_SECRET, body) },
      body,
    });
    if (res.status === 202) accepted++;
    await res.arrayBuffer();
  };
  const repository = { full_name: `${sim.owner}/${sim.repo}`, name: sim.repo, owner: { login: sim.owner } };
  for (let i = 0; i < 300; i++) {
    const pr = open[i % open.length]!;
    const kind = i % 3;
    if (kind === 0) await post("pull_request", `demo-${i}`, { action: i % 2 ? "labeled" : "synchronize", number: pr.number, pull_request: { number: pr.number, head: { sha: pr.headSha } }, repository });
    else if (kind === 1) await post("issue_comment", `demo-${i}`, { action: "created", issue: { number: pr.number, pull_request: { url: "x" } }, repository });
    else await post("check_suite", `demo-${i}`, { action: "completed", check_suite: { head_sha: pr.headSha, pull_requests: [] }, repository });
  }
  // Redeliveries of the same ids: stored once.
  for (let i = 0; i < 20; i++) {
    const pr = open[0]!;
    await post("pull_request", `demo-${i * 3}`, { action: "synchronize", number: pr.number, pull_request: { number: pr.number, head: { sha: pr.headSha } }, repository });
    duplicates++;
  }
  return { sent, accepted, duplicates };
}

async function verify(root: string, bare: string, reports: CycleReport[], legacy: string, sim: GitHubSimulator, url: string): Promise<DemoReport["verdict"]> {
  const problems: string[] = [];
  const dir = await cloneWriter(root, bare, "verify");
  const head = (await runGit(dir, ["rev-parse", "HEAD"])).stdout.trim();
  const commits = reports.flatMap((r) => (r.commit ? [r.commit] : []));
  commits.push((await runGit(legacy, ["rev-parse", "HEAD"])).stdout.trim());
  for (const c of commits) {
    const ok = await runGit(dir, ["merge-base", "--is-ancestor", c, head], { okCodes: [1, 128] });
    if (ok.code !== 0) problems.push(`commit ${c.slice(0, 10)} is not in the remote history`);
  }
  const scan = await scanRepo(dir);
  const downloaded = new Set(reports.flatMap((r) => r.downloaded.map((d) => d.pr)));
  for (const pr of downloaded) {
    const f = scan.prs.get(pr);
    if (!f || !validRecord(f)) problems.push(`#${pr} was downloaded but has no valid record on the remote`);
  }
  const markers = await runGit(dir, ["grep", "-l", "-E", "^(<<<<<<<|>>>>>>>) "], { okCodes: [1] });
  if (markers.stdout.trim() !== "") problems.push(`conflict markers in ${markers.stdout.trim().split("\n").join(", ")}`);
  let checkFindings = 0;
  try {
    const check = await runCheck({
      repoDir: dir,
      config: await loadConfig(dir),
      github: createGitHub({ repository: `${sim.owner}/${sim.repo}`, apiUrl: url, minWriteIntervalMs: 0 }),
      writer: "demo-verify",
    });
    checkFindings = check.findings.length;
    for (const f of check.findings) problems.push(`check: ${f.kind}${f.pr ? ` #${f.pr}` : ""}: ${f.detail}`);
  } catch (err) {
    problems.push(`check failed: ${errorMessage(err)}`);
  }
  return { ok: problems.length === 0, problems, checkFindings, commitsChecked: commits.length, recordsChecked: downloaded.size };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
