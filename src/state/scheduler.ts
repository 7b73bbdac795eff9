// Plans one cycle's downloads (DESIGN section 3) so that no PR blocks the others. Pure: the
// clock is an input, randomness is injectable.
//
// Classes, highest first; a PR is planned once, in the highest class it qualifies for:
//   1 events     hints from webhooks (or queued events) and poll hits, on PRs not closed in
//                their record (a "closed" event on a record that says OPEN is class 1)
//   2 integrity  redownload.txt, integrity hints, events on PRs closed in their record, and
//                PRs with a valid record that failed before and no list names
//   3 missing    missing_prs.txt without a valid record, and PRs without data that failed
//                before and no list names
//   4 stubborn   stubborn PRs that need their basic download (no valid record, or failing);
//                when the periodic retry is due, a few stubborn PRs (stubbornRetryCount) try
//                the full query instead
//   5 backfill   closed_prs_to_backfill.txt without a valid record
// Within a class: fewest attempts first, then longest since the last attempt, then random.
// PRs in backoff are not planned; they are reported as deferred with their due time.
//
// Budget: each class is guaranteed its share of maxDownloads (largest-remainder rounding, so
// the guarantees add up exactly); what a class cannot use flows to the others in class order.
// The items are interleaved across classes in proportion to each class's allocation, so a
// cycle that stops early (rate-limit reserve, wall time) has served every class about the same
// fraction, and no class waits behind another's slow or failing items.
import type { Config } from "../config/config.js";
import { isDue, latestAttemptMs, nextDueAt } from "./backoff.js";
import type { PrFacts } from "./pr-facts.js";
import { derivePrState, emptyFacts, hasDemand, isStubborn, validRecord, type PrState } from "./pr-state.js";

export const WORK_CLASSES = ["events", "integrity", "missing", "stubborn", "backfill"] as const;
export type WorkClass = (typeof WORK_CLASSES)[number];

export interface WorkHint {
  pr: number;
  source: "event" | "poll" | "integrity";
  /** "basic" when the basic data answers the hint (a label change); default "full". */
  query?: "full" | "basic";
  /** Queue files the hint stands for (deleted when its download succeeds). */
  queuePaths?: string[];
}

export interface PlanItem {
  pr: number;
  class: WorkClass;
  /**
   * "basic" for stubborn PRs (into data/N-basic), and for a basic-enough hint on a PR that has
   * a valid full record (the downloader refreshes that record from the basic data); else "full".
   */
  query: "full" | "basic";
  /** A periodic stubborn retry: a full download of a stubborn PR. */
  stubbornRetry: boolean;
  /** Why the PR is planned, for logs: "event", "poll", "redownload.txt", ... */
  reason: string;
  attempts: number;
  state: PrState;
  /** Queue files the download answers (the hints' and the PR's queued events'). */
  queuePaths: string[];
}

export interface DeferredItem {
  pr: number;
  class: WorkClass;
  attempts: number;
  dueAt: Date;
}

export interface ClassCount {
  /** Guaranteed downloads of the class. */
  share: number;
  /** PRs of the class that are due. */
  candidates: number;
  planned: number;
  /** PRs of the class in backoff. */
  deferred: number;
  /** Due PRs left for a later cycle by the budget. */
  overBudget: number;
}

export interface CyclePlan {
  items: PlanItem[];
  deferred: DeferredItem[];
  counts: Record<WorkClass, ClassCount>;
}

export interface CycleInput {
  facts: Map<number, PrFacts>;
  hints: WorkHint[];
  now: Date;
  cfg: Config;
  /** Tie-breaker in [0, 1); default Math.random. Inject a seeded one for reproducible plans. */
  random?: () => number;
  stubbornRetryDue: boolean;
}

/** Guaranteed downloads per class: maxDownloads split by the shares, largest remainder first. */
export function classShares(cfg: Config): Record<WorkClass, number> {
  const n = cfg.budget.maxDownloads;
  const quota = WORK_CLASSES.map((c) => n * cfg.budget.shares[c]);
  // The epsilon keeps 0.15 * 100 = 15.000000000000002 from counting as a remainder.
  const out = quota.map((q) => Math.floor(q + 1e-9));
  const total = Math.min(n, Math.round(quota.reduce((a, b) => a + b, 0)));
  const byRemainder = WORK_CLASSES.map((_, i) => i).sort((a, b) => quota[b]! - out[b]! - (quota[a]! - out[a]!) || a - b);
  for (let left = total - out.reduce((a, b) => a + b, 0), i = 0; left > 0; left--, i++) out[byRemainder[i % byRemainder.length]!]!++;
  return Object.fromEntries(WORK_CLASSES.map((c, i) => [c, out[i]!])) as Record<WorkClass, number>;
}

interface Candidate {
  pr: number;
  class: WorkClass;
  reason: string;
  query: "full" | "basic";
  stubbornRetry: boolean;
  facts: PrFacts;
  state: PrState;
  /** Tie-breaker drawn once per PR, in PR-number order (so one seed gives one plan). */
  tie: number;
  last: number;
  queuePaths: string[];
}

const closedInRecord = (f: PrFacts) => {
  const s = validRecord(f)?.state;
  return s === "CLOSED" || s === "MERGED";
};

/** The class a PR qualifies for first, and why; undefined when nothing asks for a download. */
function classify(f: PrFacts, hints: readonly WorkHint[], cfg: Config): { class: WorkClass; reason: string } | undefined {
  const record = validRecord(f);
  const stubborn = isStubborn(f, cfg);
  const event = hints.find((h) => h.source !== "integrity");
  const eventReason = event ? event.source : f.queued.length > 0 ? "queued event" : undefined;
  // Failed before and nothing in the files asks for it (older tooling's leftovers; the
  // transition planner always leaves a listing).
  const failedUnlisted = f.attempts.length > 0 && !stubborn && !hasDemand(f) && hints.length === 0;

  if (eventReason && !closedInRecord(f)) return { class: "events", reason: eventReason };
  if (eventReason) return { class: "integrity", reason: `${eventReason} on a closed PR` };
  if (hints.length > 0) return { class: "integrity", reason: "integrity finding" };
  if (f.lists.has("redownload")) return { class: "integrity", reason: "redownload.txt" };
  if (failedUnlisted && record) return { class: "integrity", reason: "retry after failed attempts" };
  if (f.lists.has("missing") && !record) return { class: "missing", reason: "missing_prs.txt" };
  if (failedUnlisted) return { class: "missing", reason: "retry after failed attempts" };
  if (stubborn && (!record || f.attempts.length > 0)) return { class: "stubborn", reason: "stubborn (basic query)" };
  if (f.lists.has("backfill") && !record) return { class: "backfill", reason: "closed_prs_to_backfill.txt" };
  return undefined;
}

function queryFor(f: PrFacts, hints: readonly WorkHint[], cfg: Config): "full" | "basic" {
  if (isStubborn(f, cfg)) return "basic";
  // Basic only when every hint says the basic data answers it and there is a full record to refresh.
  const basicEnough = hints.length > 0 && hints.every((h) => h.query === "basic") && f.full?.valid === true;
  return basicEnough ? "basic" : "full";
}

function byPriority(a: Candidate, b: Candidate): number {
  return a.facts.attempts.length - b.facts.attempts.length || a.last - b.last || a.tie - b.tie || a.pr - b.pr;
}

export function planCycle(input: CycleInput): CyclePlan {
  const { cfg, now } = input;
  const random = input.random ?? Math.random;
  const hintsByPr = new Map<number, WorkHint[]>();
  for (const h of input.hints) {
    const list = hintsByPr.get(h.pr);
    if (list) list.push(h);
    else hintsByPr.set(h.pr, [h]);
  }
  const prs = [...new Set([...input.facts.keys(), ...hintsByPr.keys()])].sort((a, b) => a - b);

  const counts = Object.fromEntries(
    WORK_CLASSES.map((c) => [c, { share: 0, candidates: 0, planned: 0, deferred: 0, overBudget: 0 }]),
  ) as Record<WorkClass, ClassCount>;
  const shares = classShares(cfg);
  for (const c of WORK_CLASSES) counts[c].share = shares[c];

  const candidates = Object.fromEntries(WORK_CLASSES.map((c) => [c, [] as Candidate[]])) as Record<WorkClass, Candidate[]>;
  const deferred: DeferredItem[] = [];
  const retryPool: Candidate[] = [];

  for (const pr of prs) {
    const f = input.facts.get(pr) ?? emptyFacts(pr);
    const hints = hintsByPr.get(pr) ?? [];
    const tie = random();
    const cls = classify(f, hints, cfg);
    const due = isDue(f.attempts, cfg, pr, now);
    if (cls && !due) {
      deferred.push({ pr, class: cls.class, attempts: f.attempts.length, dueAt: nextDueAt(f.attempts, cfg, pr)! });
      counts[cls.class].deferred++;
      continue;
    }
    const base = {
      pr,
      facts: f,
      state: derivePrState(f, cfg),
      tie,
      last: latestAttemptMs(f.attempts) ?? Number.NEGATIVE_INFINITY,
      queuePaths: [...new Set([...hints.flatMap((h) => h.queuePaths ?? []), ...f.queued.map((q) => q.path)])].sort(),
    };
    if (cls) candidates[cls.class].push({ ...base, class: cls.class, reason: cls.reason, query: queryFor(f, hints, cfg), stubbornRetry: false });
    // The retry may pick any due stubborn PR that no higher class claims.
    if (input.stubbornRetryDue && due && f.lists.has("stubborn") && (!cls || cls.class === "stubborn")) {
      retryPool.push({ ...base, class: "stubborn", reason: "stubborn retry (full query)", query: "full", stubbornRetry: true });
    }
  }

  for (const c of WORK_CLASSES) candidates[c].sort(byPriority);
  if (input.stubbornRetryDue && cfg.thresholds.stubbornRetryCount > 0) {
    // PRs still open in their record first: the dashboard shows those.
    retryPool.sort((a, b) => Number(closedInRecord(a.facts)) - Number(closedInRecord(b.facts)) || byPriority(a, b));
    const retry = retryPool.slice(0, cfg.thresholds.stubbornRetryCount);
    const retried = new Set(retry.map((r) => r.pr));
    candidates.stubborn = [...retry, ...candidates.stubborn.filter((c) => !retried.has(c.pr))];
  }

  // Guarantees first, then what is left flows to the classes in order.
  const take = Object.fromEntries(WORK_CLASSES.map((c) => [c, Math.min(shares[c], candidates[c].length)])) as Record<WorkClass, number>;
  let left = cfg.budget.maxDownloads - WORK_CLASSES.reduce((a, c) => a + take[c], 0);
  for (const c of WORK_CLASSES) {
    const extra = Math.max(0, Math.min(left, candidates[c].length - take[c]));
    take[c] += extra;
    left -= extra;
  }

  const placed: { item: PlanItem; position: number; rank: number }[] = [];
  WORK_CLASSES.forEach((c, rank) => {
    const list = candidates[c];
    counts[c].candidates = list.length;
    counts[c].planned = take[c];
    counts[c].overBudget = list.length - take[c];
    list.slice(0, take[c]).forEach((cand, i) => {
      const item: PlanItem = {
        pr: cand.pr,
        class: c,
        query: cand.query,
        stubbornRetry: cand.stubbornRetry,
        reason: cand.reason,
        attempts: cand.facts.attempts.length,
        state: cand.state,
        queuePaths: cand.queuePaths,
      };
      placed.push({ item, position: (i + 0.5) / take[c], rank });
    });
  });
  placed.sort((a, b) => a.position - b.position || a.rank - b.rank);
  deferred.sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime() || a.pr - b.pr);
  return { items: placed.map((p) => p.item), deferred, counts };
}
