// `prstate sync`: one update cycle of the data repo (DESIGN sections 2, 3, 5, 6, 7, 8).
//
//   preflight -> intake (poll to the watermark, queue + spool, coalesce) -> integrity check
//   -> plan (classes, shares, backoff) -> download each PR on its own -> one commit with a
//   trailer block per transition -> watermark -> push.
//
// The GitHub client is injected; every decision is made by the pure planners (state,
// scheduler, integrity, coalescing); this module only sequences them and does the I/O.
// One PR's failure never discards another's success: every outcome is collected and all of
// them are committed together, even when the cycle stops early (rate-limit reserve, time
// budget) or a systemic error (auth refused) ends it, which is then re-thrown after the commit.
import { join } from "node:path";
import type { Config } from "../config/config.js";
import { AuthError, DataError, errorMessage, GitHubError, PrstateError, RateLimitError, ServerError, TimeoutError } from "../errors.js";
import type { GitHub, PullListing, PullSummary } from "../github/github.js";
import { buildCommitMessage, type Transition } from "../git/commit-message.js";
import { commitStaged, stagePaths } from "../git/git-cli.js";
import { pushWithRetry, type PushWithRetryResult as PushOutcome } from "../git/push-loop.js";
import { coalesce } from "../intake/coalesce.js";
import { listQueue, type QueuedItem } from "../intake/queue-store.js";
import { drainSpool } from "../../hooks/drain-spool.js";
import { FileSpool, type Spool, type SpoolEntry } from "../../hooks/spool.js";
import { runChecks, paranoidFindings, type Finding } from "../integrity/checks.js";
import { planFixes } from "../integrity/fix-plan.js";
import { CHECKS_FILE, STATE_DIR, WATERMARK_FILE, basicDir, fullDir, prNumber } from "../layout.js";
import { listEntries, type ListFile } from "../lists/list-file.js";
import { readdirOrEmpty } from "../store/atomic-write.js";
import { readChecks, recordCheckRun } from "../store/checks-file.js";
import { LIST_NAMES, readList } from "../store/list-store.js";
import { readRecord, writeRecord } from "../store/record-store.js";
import { headShaIndex, scanRepo } from "../store/repo-scan.js";
import { readWatermark, writeWatermark } from "../store/watermark-file.js";
import { applyChanges, type PrChanges } from "../state/pr-changes.js";
import { emptyFacts, isStubborn } from "../state/pr-state.js";
import { planCycle, type CyclePlan, type PlanItem, type WorkHint } from "../state/scheduler.js";
import { planTransition, type DownloadOutcome } from "../state/transitions.js";
import { applyFixPlan, applyPrChanges } from "./apply-changes.js";
import { nextWatermark, pollHits } from "./poll-plan.js";
import { preflight } from "./preflight.js";
import { spliceBasicIntoFull } from "./splice-basic.js";

export interface CycleOptions {
  repoDir: string;
  github: GitHub;
  config: Config;
  /** Workflow run or host id: attempt file names and trailers. */
  writer: string;
  /** Push at the end (default true); false = commit locally only. */
  push?: boolean;
  /** Plan only: no download, no write, no commit. */
  dryRun?: boolean;
  remote?: string;
  /** Receiver spool to drain into state/queue first (`prstate serve --spool`). */
  spoolDir?: string;
  /** Downloads in flight at once. Default 4. */
  concurrency?: number;
  /** Pages of the updated-PRs listing walked back to the watermark. Default 30 (3,000 PRs). */
  maxPollPages?: number;
  now?: () => Date;
  random?: () => number;
  log?: (line: string) => void;
  /** Extra options of the push loop (tests shorten its backoff). */
  pushOptions?: { maxTries?: number; baseDelayMs?: number };
}

export interface FailureReport {
  pr: number;
  errorClass: string;
  message: string;
  attempts: number;
  becameStubborn: boolean;
}

export interface CycleReport {
  writer: string;
  dryRun: boolean;
  plan: { pr: number; class: string; query: string; reason: string }[];
  deferred: { pr: number; dueAt: string }[];
  downloaded: { pr: number; query: "full" | "basic"; spliced: boolean; transition?: Transition }[];
  failed: FailureReport[];
  /** PRs whose download met a rate limit that outlasted the client's waiting: not failures, left for the next cycle. */
  rateLimited: number[];
  /** PRs that joined stubborn_prs.txt in this cycle. */
  becameStubborn: number[];
  poll: { since?: string; listed: number; hits: number; complete: boolean; error?: string };
  queue: { events: number; coalescedInto: number; waiting: number; drainedFromSpool: number; ignored: number };
  findings: Record<string, number>;
  paranoid: boolean;
  stubbornRetry: boolean;
  stoppedEarly?: "rate-limit" | "time-budget" | "auth" | "unreachable";
  watermark: { from?: string; to?: string };
  commit?: string;
  transitions: Transition[];
  push?: PushOutcome;
}

function isDue(lastIso: string | undefined, everyHours: number, now: Date): boolean {
  if (lastIso === undefined) return true;
  const last = Date.parse(lastIso);
  return Number.isNaN(last) || now.getTime() - last >= everyHours * 3600 * 1000;
}

/** A state file that does not parse stops the cycle; the message says how to repair it. */
function brokenStateHint(err: unknown): never {
  if (err instanceof DataError) throw new DataError(`${err.message}; 'prstate check --fix' removes it (a poll from the first page then rebuilds it)`);
  throw err;
}

/** Rejects with a TimeoutError once the cycle's wall-clock budget is spent (the request itself is abandoned). */
function beforeDeadline<T>(work: Promise<T>, left: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what}: the cycle's time budget (budget.maxSeconds) ran out`)), Math.max(0, left));
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

/** PRs the cycle must look at: listed, attempted, queued, polled or open. Never all of data/. */
async function cycleScope(repo: string, lists: Record<string, ListFile>, queue: readonly QueuedItem[], more: Iterable<number>): Promise<Set<number>> {
  const scope = new Set<number>(more);
  for (const list of Object.values(lists)) for (const pr of listEntries(list)) scope.add(pr);
  for (const q of queue) scope.add(q.pr);
  for (const name of await readdirOrEmpty(join(repo, STATE_DIR, "attempts"))) {
    try {
      scope.add(prNumber(name));
    } catch {
      // A stray folder: the full check reports it; the cycle has nothing to download for it.
    }
  }
  return scope;
}

export async function runCycle(opts: CycleOptions): Promise<CycleReport> {
  const repo = opts.repoDir;
  const cfg = opts.config;
  const gh = opts.github;
  const now = opts.now ?? (() => new Date());
  const log = opts.log ?? (() => undefined);
  const remote = opts.remote ?? "origin";
  const started = now();
  const deadline = started.getTime() + cfg.budget.maxSeconds * 1000;
  const dryRun = opts.dryRun ?? false;

  const report: CycleReport = {
    writer: opts.writer,
    dryRun,
    plan: [],
    deferred: [],
    downloaded: [],
    failed: [],
    rateLimited: [],
    becameStubborn: [],
    poll: { listed: 0, hits: 0, complete: true },
    queue: { events: 0, coalescedInto: 0, waiting: 0, drainedFromSpool: 0, ignored: 0 },
    findings: {},
    paranoid: false,
    stubbornRetry: false,
    watermark: {},
    transitions: [],
  };

  // 1. Preflight: driver installed, tree clean, up to date with the remote.
  const pre = await preflight(repo, { remote, fetch: !dryRun, requireDriver: true, repair: !dryRun, ...(cfg.branch ? { branch: cfg.branch } : {}) });
  log(`preflight: ${pre.summary}`);

  // 2. Intake from GitHub. The listings come first and are systemic: if GitHub cannot list
  // PRs (down, unreachable, wrong URL), every download would fail too and count attempts
  // that are no PR's fault, so the cycle ends here, changing nothing (exit 7). A rate limit
  // ends it cleanly; the next cycle polls again from the same watermark.
  const watermark = await readWatermark(repo).catch(brokenStateHint);
  report.watermark.from = watermark?.updatedAt;
  if (watermark) report.poll.since = watermark.updatedAt;
  let listing: PullListing;
  let open: PullSummary[];
  try {
    listing = await beforeDeadline(gh.listUpdatedSince(watermark?.updatedAt, { maxPages: opts.maxPollPages ?? 30 }), deadline - now().getTime(), "listing updated PRs");
    report.poll.listed = listing.length;
    report.poll.complete = listing.complete;
    open = await beforeDeadline(gh.listOpenPulls(), deadline - now().getTime(), "listing open PRs");
  } catch (err) {
    if (!(err instanceof RateLimitError)) throw err;
    report.poll.error = `${err.name}: ${errorMessage(err)}`;
    report.stoppedEarly = "rate-limit";
    log(`listing PRs hit the rate limit; nothing to do until it resets: ${errorMessage(err)}`);
    return report;
  }

  // 3. Facts of every PR in scope, then the receiver's spool into the queue (mapping CI
  // events by head SHA needs the records' and GitHub's heads).
  const lists: Record<string, ListFile> = {};
  for (const name of LIST_NAMES) lists[name] = await readList(repo, name);
  let queue = await listQueue(repo);
  // The open PRs of the previous cycle too: one closed since then may still say OPEN in its record.
  const scopeExtra = [...listing.map((p) => p.number), ...open.map((p) => p.number), ...(watermark?.open ?? [])];
  // The paranoid check (daily by default) reads every record, so it also sees what no scope
  // holds (a record saying OPEN from before the open PRs were remembered, a stray folder).
  // Every other cycle reads just its scope, so its cost follows what changed.
  const checks = await readChecks(repo).catch(brokenStateHint);
  report.paranoid = isDue(checks.paranoid, cfg.thresholds.paranoidEveryHours, started);
  const scan = report.paranoid ? await scanRepo(repo) : await scanRepo(repo, { only: await cycleScope(repo, lists, queue, scopeExtra) });
  const facts = scan.prs;
  const touched = new Set<string>();

  const drainedEntries: SpoolEntry[] = [];
  if (opts.spoolDir && !dryRun) {
    const index = headShaIndex(scan);
    for (const p of open) if (!index.has(p.headSha)) index.set(p.headSha, p.number);
    // Spool files are removed only once the cycle's commit is pushed (or committed, without
    // push): until then the events exist only in this clone, which may be thrown away. A
    // re-drain after a failed push finds the queue files there already (same delivery ids).
    const fileSpool = new FileSpool(opts.spoolDir);
    const spool: Spool = {
      write: (e) => fileSpool.write(e),
      list: () => fileSpool.list(),
      read: (e) => fileSpool.read(e),
      reject: (e) => fileSpool.reject(e),
      remove: async (e) => {
        drainedEntries.push(e);
      },
    };
    try {
      const drained = await drainSpool(opts.spoolDir, repo, index, { log, spool });
      report.queue.drainedFromSpool = drained.drained;
      report.queue.ignored = drained.ignored.length;
      for (const p of drained.queued) touched.add(p);
    } catch (err) {
      // Every delivery was tried; the failed ones stay in the spool for the next cycle.
      if (!(err instanceof PrstateError)) throw err;
      log(errorMessage(err));
    }
    queue = await listQueue(repo);
    const fresh = [...new Set(queue.map((q) => q.pr))].filter((pr) => !facts.has(pr));
    if (fresh.length > 0) for (const [pr, f] of (await scanRepo(repo, { only: fresh })).prs) facts.set(pr, f);
  }

  // 4. Hints: poll hits and coalesced events.
  const hits = pollHits(listing, facts);
  report.poll.hits = hits.length;
  const co = coalesce(queue, started, cfg.thresholds.debounceSeconds);
  report.queue.events = queue.length;
  report.queue.coalescedInto = co.ready.length;
  report.queue.waiting = co.waiting.length;
  // A poll hit usually sees the very update a webhook announced: when that event needs only
  // the basic query, so does the hit (the splice falls back to the full query if more changed).
  const basicEvents = new Set(co.ready.filter((w) => w.kind === "basic").map((w) => w.pr));
  const hints: WorkHint[] = [
    ...hits.map((p): WorkHint => ({ pr: p.number, source: "poll", ...(basicEvents.has(p.number) ? { query: "basic" as const } : {}) })),
    ...co.ready.map((w): WorkHint => ({ pr: w.pr, source: "event", query: w.kind, queuePaths: w.paths })),
  ];

  // 5. Integrity: the cheap check over this scope every cycle, the paranoid one when due.
  const findings: Finding[] = runChecks({ facts, open, unexpected: scan.unexpected, now: started, cfg, scope: report.paranoid ? "full" : "cycle", lists });
  if (report.paranoid) findings.push(...paranoidFindings(facts, open));
  for (const f of findings) report.findings[f.kind] = (report.findings[f.kind] ?? 0) + 1;
  const fixes = planFixes(findings, facts, { cfg, now: started, writer: opts.writer });
  for (const fix of fixes.prs) {
    facts.set(fix.pr, applyChanges(facts.get(fix.pr) ?? emptyFacts(fix.pr), fix));
    report.transitions.push(fix.transition);
  }
  report.stubbornRetry = isDue(checks.stubbornRetry, cfg.thresholds.stubbornRetryEveryHours, started);

  // 6. Plan. Events still inside their debounce window are not demand yet.
  const waiting = new Set(co.waiting.map((w) => w.pr));
  const planningFacts = new Map(facts);
  for (const pr of waiting) {
    const f = planningFacts.get(pr);
    if (f) planningFacts.set(pr, { ...f, queued: [] });
  }
  const plan: CyclePlan = planCycle({
    facts: planningFacts,
    hints: hints.filter((h) => !waiting.has(h.pr) || h.source !== "event"),
    now: started,
    cfg,
    stubbornRetryDue: report.stubbornRetry,
    ...(opts.random ? { random: opts.random } : {}),
  });
  report.plan = plan.items.map((i) => ({ pr: i.pr, class: i.class, query: i.stubbornRetry ? "full (stubborn retry)" : i.query, reason: i.reason }));
  report.deferred = plan.deferred.map((d) => ({ pr: d.pr, dueAt: d.dueAt.toISOString() }));
  if (dryRun) return report;

  for (const p of await applyFixPlan(repo, fixes)) touched.add(p);

  // 7. Downloads, each on its own; outcomes are planned against the facts as they are now.
  const changes: PrChanges[] = [];
  const settled = new Set<number>();
  // A poll hit is settled by a download only if GitHub's answer is at least as new as the
  // listing: replicas lag, and an answer from before the listed update does not contain it.
  const listedAt = new Map(hits.map((h) => [h.number, Date.parse(h.updatedAt)]));
  let stop: CycleReport["stoppedEarly"];
  let fatal: unknown;
  // The periodic stubborn retry counts as run once one of its downloads got an answer (not a
  // rate limit): a cycle that stops before it must leave the retry due for the next cycle.
  let stubbornRetryRan = false;
  const pending = [...plan.items];

  const runItem = async (item: PlanItem): Promise<void> => {
    const f = facts.get(item.pr) ?? emptyFacts(item.pr);
    let outcome: DownloadOutcome;
    let spliced = false;
    let query: "full" | "basic" = item.query;
    let answeredAt: string | undefined;
    try {
      const done = await download(repo, gh, item, isStubborn(f, cfg), now());
      outcome = { ok: true, record: done.record };
      spliced = done.spliced;
      query = done.query;
      answeredAt = done.updatedAt;
      for (const p of done.paths) touched.add(p);
    } catch (err) {
      if (err instanceof AuthError) {
        fatal ??= err;
        stop = "auth";
        return;
      }
      // No HTTP answer at all (connection refused or reset, DNS): GitHub is unreachable, which
      // is nobody's PR's fault: not counted, and the cycle ends after committing what it got.
      if (err instanceof ServerError && err.status === undefined) {
        fatal ??= err;
        stop ??= "unreachable";
        return;
      }
      if (err instanceof RateLimitError) stop ??= "rate-limit";
      else if (!(err instanceof GitHubError) && !(err instanceof DataError)) log(`PR #${item.pr}: unexpected error: ${errorMessage(err)}`);
      outcome = { ok: false, query: item.stubbornRetry ? "full" : item.query, error: err };
    }
    if (item.stubbornRetry && (outcome.ok || !(outcome.error instanceof RateLimitError))) stubbornRetryRan = true;
    const plan = planTransition({ facts: f, outcome, cfg, now: now(), writer: opts.writer, queuePaths: item.queuePaths });
    facts.set(item.pr, applyChanges(f, plan));
    changes.push(plan);
    if (plan.transition) report.transitions.push(plan.transition);
    if (outcome.ok) {
      const listed = listedAt.get(item.pr);
      if (listed !== undefined && Date.parse(answeredAt ?? "") < listed) {
        log(`PR #${item.pr}: GitHub answered with updatedAt ${answeredAt}, older than the listing's; the watermark waits for the listed update`);
      } else settled.add(item.pr);
      report.downloaded.push({ pr: item.pr, query, spliced, ...(plan.transition ? { transition: plan.transition } : {}) });
    } else {
      // A counted failure is durable (attempt file, list entry): the watermark may pass it.
      if (plan.counted) settled.add(item.pr);
      const err = outcome.error;
      // Waiting out a rate limit is nobody's failure: the PR is simply left for the next cycle.
      if (err instanceof RateLimitError) {
        report.rateLimited.push(item.pr);
        return;
      }
      report.failed.push({
        pr: item.pr,
        errorClass: err instanceof Error ? err.name : String(err),
        message: errorMessage(err).split("\n")[0]!.slice(0, 200),
        // Counted before the move: becoming stubborn clears the attempt files.
        attempts: f.attempts.length + (plan.counted ? 1 : 0),
        becameStubborn: plan.becomesStubborn,
      });
      if (plan.becomesStubborn) report.becameStubborn.push(item.pr);
      log(`PR #${item.pr}: ${item.query} download failed: ${errorMessage(err).split("\n")[0]}`);
    }
  };

  const reserveReached = () => {
    const rl = gh.rateLimit("graphql");
    return rl !== undefined && rl.remaining <= cfg.thresholds.rateLimitReserve;
  };
  const worker = async () => {
    while (pending.length > 0 && stop === undefined) {
      if (now().getTime() >= deadline) {
        stop = "time-budget";
        break;
      }
      if (reserveReached()) {
        stop = "rate-limit";
        break;
      }
      await runItem(pending.shift()!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker));
  if (stop) {
    report.stoppedEarly = stop;
    log(`cycle stopped early (${stop}); ${pending.length} planned downloads left for the next cycle`);
  }

  // 8. Files of every move, the watermark, the periodic job stamps.
  for (const p of await applyPrChanges(repo, changes)) touched.add(p);
  const unsettled = new Set(hits.map((h) => h.number).filter((pr) => !settled.has(pr)));
  const to = nextWatermark(watermark?.updatedAt, listing, unsettled);
  report.watermark.to = to;
  const openNow = open.map((p) => p.number).sort((a, b) => a - b);
  const openChanged = JSON.stringify(openNow) !== JSON.stringify(watermark?.open ?? []);
  if (to !== undefined && (to !== watermark?.updatedAt || openChanged) && (await writeWatermark(repo, { updatedAt: to, writer: opts.writer, open: openNow }))) {
    touched.add(WATERMARK_FILE);
  }
  if (report.paranoid) {
    await recordCheckRun(repo, "paranoid", started);
    touched.add(CHECKS_FILE);
  }
  if (report.stubbornRetry && stubbornRetryRan) {
    await recordCheckRun(repo, "stubbornRetry", started);
    touched.add(CHECKS_FILE);
  }

  // 9. One commit: its trailers are the audit trail of every move of the cycle.
  if (touched.size > 0) {
    await stagePaths(repo, [...touched].sort());
    const subject = report.transitions.length === 0 ? "prstate: bookkeeping (watermark, queue, periodic checks)" : undefined;
    const message = buildCommitMessage(report.transitions, {
      ...(subject ? { subject } : {}),
      body: cycleSummaryLine(report),
    });
    report.commit = (await commitStaged(repo, message)) ?? undefined;
  }

  // 10. Push (merging whatever other writers pushed meanwhile).
  if ((opts.push ?? true) && pre.hasRemote) {
    report.push = await pushWithRetry({ repoDir: repo, remote, writer: opts.writer, log, ...(opts.pushOptions ?? {}) });
  }
  if (opts.spoolDir) {
    const fileSpool = new FileSpool(opts.spoolDir);
    for (const e of drainedEntries) await fileSpool.remove(e);
  }
  if (fatal) throw fatal;
  return report;
}

function cycleSummaryLine(r: CycleReport): string {
  return (
    `Cycle of ${r.writer}: ${r.downloaded.length} downloaded, ${r.failed.length} failed, ` +
    `${r.poll.hits} poll hits, ${r.queue.events} queued events into ${r.queue.coalescedInto} items` +
    (r.stoppedEarly ? `, stopped early (${r.stoppedEarly})` : "")
  );
}

interface Downloaded {
  record: "full" | "basic";
  query: "full" | "basic";
  spliced: boolean;
  paths: string[];
  /** The PR's updatedAt in GitHub's answer. */
  updatedAt: string;
}

/**
 * Downloads one PR and writes it (temp folder + rename). A basic-enough hint on a PR with a
 * full record refreshes that record by splicing when that is safe, else downloads it fully.
 * A stored record that is newer than the download (another writer was faster) is kept: the
 * download then counts as a success that wrote nothing.
 */
async function download(repo: string, gh: GitHub, item: PlanItem, stubborn: boolean, fetchedAt: Date): Promise<Downloaded> {
  if (item.query === "full" || item.stubbornRetry) return downloadFull(repo, gh, item.pr, fetchedAt);
  const basic = await gh.fetchBasic(item.pr);
  if (!stubborn) {
    // A basic-enough hint on a PR with a full record: refresh that record in place if safe.
    const stored = await readRecord(repo, item.pr, { basic: false });
    const spliced = stored?.facts.valid && stored.docs ? spliceBasicIntoFull(stored.docs["pr_info.json"], basic.basic) : undefined;
    if (spliced === undefined) return downloadFull(repo, gh, item.pr, fetchedAt);
    const files: Record<string, unknown> = { "pr_info.json": spliced };
    if (stored!.docs!["pr_reactions.json"] !== undefined) files["pr_reactions.json"] = stored!.docs!["pr_reactions.json"];
    const res = await writeRecord(repo, item.pr, { basic: false, files, fetchedAt });
    return { record: "full", query: "basic", spliced: true, paths: res.written ? [fullDir(item.pr)] : [], updatedAt: basic.updatedAt };
  }
  const res = await writeRecord(repo, item.pr, { basic: true, files: { "basic_pr_info.json": basic.basic }, fetchedAt });
  return { record: res.written ? "basic" : recordKindOf(res.newer), query: "basic", spliced: false, paths: res.written ? [basicDir(item.pr)] : [], updatedAt: basic.updatedAt };
}

async function downloadFull(repo: string, gh: GitHub, pr: number, fetchedAt: Date): Promise<Downloaded> {
  const docs = await gh.fetchFull(pr);
  const res = await writeRecord(repo, pr, { basic: false, files: { "pr_info.json": docs.prInfo, "pr_reactions.json": docs.reactions }, fetchedAt });
  return { record: res.written ? "full" : recordKindOf(res.newer), query: "full", spliced: false, paths: res.written ? [fullDir(pr)] : [], updatedAt: docs.updatedAt };
}

function recordKindOf(dir: string): "full" | "basic" {
  return dir.endsWith("-basic") ? "basic" : "full";
}

