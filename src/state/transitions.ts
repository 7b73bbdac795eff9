// What one download's outcome does to a PR (DESIGN section 2), as a plan of file changes plus
// the Transition for the commit trailer. Pure: the caller downloads, then applies the plan
// in the same commit as the data (so "missing -> fresh" and leaving missing_prs.txt are one
// commit). Rules:
//
// - Success: the PR leaves missing_prs.txt / closed_prs_to_backfill.txt / redownload.txt,
//   its attempt files and legacy attempt comments go, the queue files the download answered
//   go. The PR keeps exactly one record, the one just written: a full download removes a
//   `data/N-basic` (and, for a stubborn PR, takes it off stubborn_prs.txt: the periodic
//   stubborn retry succeeded); a basic download removes a `data/N`. (A stale full record
//   next to a fresh basic one would break the post-merge invariant "no PR has both a full
//   and a basic record", DESIGN 4; a broken one is removed all the more.)
// - Failure: counts one attempt (a new attempt file), the last good record is KEPT. When the
//   count, including this attempt, reaches the threshold (attemptsMissing without a valid
//   record, attemptsRedownload with one) the PR joins stubborn_prs.txt once and its attempts
//   are cleared: the basic regime starts without backoff. A failure never loses the demand
//   for the download: a PR that nothing asks for in the files (a poll hit; a valid record whose
//   only listing is a satisfied missing entry) is listed for re-download (valid record) or as
//   missing (no valid record).
// - Not counted, no change at all: a RateLimitError (waiting out a limit is never the PR's
//   fault, DESIGN 7), and a failed full query of a PR already on stubborn_prs.txt (the
//   periodic stubborn retry is expected to fail; counting it would back off the basic
//   downloads that work).
import type { Config } from "../config/config.js";
import { errorMessage, RateLimitError } from "../errors.js";
import { basicDir, fullDir, tempDir, type ListName } from "../layout.js";
import { applyChanges, noChanges, type PrChanges, type Transition } from "./pr-changes.js";
import type { PrFacts } from "./pr-facts.js";
import { attemptThreshold, derivePrState, hasDemand, isStubborn, stateLabel, validRecord, wantsRedownload } from "./pr-state.js";

export type DownloadOutcome =
  /** `record`: which folder was written, `data/N` ("full") or `data/N-basic` ("basic"). */
  | { ok: true; record: "full" | "basic" }
  /** `error`: the error thrown (its class decides), or just the error class name. */
  | { ok: false; query: "full" | "basic"; error: unknown };

export interface TransitionInput {
  facts: PrFacts;
  outcome: DownloadOutcome;
  cfg: Config;
  /** When the outcome happened (the attempt file's time). */
  now: Date;
  /** Workflow run or host id (attempt file name, trailer). */
  writer: string;
  /** Queue files the download answered (the work item's): deleted on success only. */
  queuePaths?: readonly string[];
  /** Overrides the default reason of the trailer. */
  reason?: string;
}

export interface TransitionPlan extends PrChanges {
  /** Whether the outcome counted as a failed attempt. */
  counted: boolean;
  /** The PR joins stubborn_prs.txt in this move. */
  becomesStubborn: boolean;
  /** Undefined when nothing changes (a rate limit, a failed stubborn retry). */
  transition?: Transition;
}

const DEMAND_LISTS: readonly ListName[] = ["missing", "backfill", "redownload"];

/** The class name that attempt files and trailers record: `TimeoutError`, `ServerError`, ... */
export function errorClassOf(error: unknown): string {
  if (typeof error === "string" && error.trim() !== "") return error.trim();
  if (error instanceof Error) return error.name || error.constructor.name || "Error";
  return "Error";
}

/** A rate limit, by class (or by name, for an error from another copy of the module). */
export function isRateLimit(error: unknown): boolean {
  return error instanceof RateLimitError || errorClassOf(error) === "RateLimitError";
}

function attemptFiles(f: PrFacts): string[] {
  return f.attempts.flatMap((a) => (a.path === undefined ? [] : [a.path]));
}

function hasLegacyAttempts(f: PrFacts): boolean {
  return f.attempts.some((a) => a.path === undefined);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** The changes of a successful download that wrote `record`. */
export function planSuccess(f: PrFacts, record: "full" | "basic", cfg: Config, queuePaths: readonly string[] = []): PrChanges {
  const c = noChanges(f.pr);
  c.writeRecord = record;
  c.removeFromLists = DEMAND_LISTS.filter((l) => f.lists.has(l));
  if (record === "full" && f.lists.has("stubborn")) c.removeFromLists.push("stubborn");
  // Stubborn by its attempt count, not yet listed: the list catches up before the attempts go.
  if (record === "basic" && !f.lists.has("stubborn") && isStubborn(f, cfg)) c.addToLists.push("stubborn");
  if (record === "full" && f.basic) c.removePaths.push(basicDir(f.pr));
  if (record === "basic" && f.full) c.removePaths.push(fullDir(f.pr));
  if (f.temp) c.removePaths.push(tempDir(f.pr), tempDir(f.pr, true));
  c.removeAttempts = attemptFiles(f);
  c.removeLegacyAttempts = hasLegacyAttempts(f);
  c.removeQueue = [...new Set(queuePaths)];
  return c;
}

export interface FailureInput {
  errorClass: string;
  query: "full" | "basic";
  message?: string;
  cfg: Config;
  now: Date;
  writer: string;
  /** The list that keeps the demand when no list or queue names the PR and it has no valid record. Default "missing". */
  listIfNoRecord?: "missing" | "backfill";
}

/** The changes of one COUNTED failed attempt (callers decide whether a failure counts). */
export function planFailure(f: PrFacts, input: FailureInput): { changes: PrChanges; becomesStubborn: boolean; attempts: number; threshold: number } {
  const c = noChanges(f.pr);
  const attempts = f.attempts.length + 1;
  const threshold = attemptThreshold(f, input.cfg);
  const listed = f.lists.has("stubborn");
  const becomesStubborn = !listed && attempts >= threshold;
  if (becomesStubborn) {
    c.addToLists.push("stubborn");
    c.removeAttempts = attemptFiles(f);
    c.removeLegacyAttempts = hasLegacyAttempts(f);
  } else {
    c.recordAttempt = { at: input.now.toISOString(), writer: input.writer, errorClass: input.errorClass, query: input.query };
    if (input.message !== undefined && input.message !== "") c.recordAttempt.message = input.message;
  }
  // A stubborn PR without data is demand by itself (the scheduler's stubborn class); joining
  // stubborn_prs.txt in this move counts too.
  const record = validRecord(f);
  if (!hasDemand(f) && !(becomesStubborn && !record)) c.addToLists.push(record ? "redownload" : (input.listIfNoRecord ?? "missing"));
  return { changes: c, becomesStubborn, attempts, threshold };
}

function successReason(f: PrFacts, record: "full" | "basic"): string {
  const had = validRecord(f);
  let what: string;
  if (record === "full" && f.lists.has("stubborn")) what = "stubborn retry: full download succeeded";
  else if (record === "basic") what = "basic download succeeded";
  else if (!had && f.lists.has("backfill") && !f.lists.has("missing")) what = "backfill download succeeded";
  else if (!had) what = "download of missing PR succeeded";
  else if (wantsRedownload(f)) what = "re-download succeeded";
  else what = "download succeeded";
  return f.attempts.length > 0 ? `${what} after ${plural(f.attempts.length, "failed attempt")}` : what;
}

export function planTransition(input: TransitionInput): TransitionPlan {
  const { facts: f, outcome, cfg } = input;
  const from = stateLabel(derivePrState(f, cfg));
  const finish = (changes: PrChanges, counted: boolean, becomesStubborn: boolean, reason: string): TransitionPlan => {
    const to = stateLabel(derivePrState(applyChanges(f, changes), cfg));
    return { ...changes, counted, becomesStubborn, transition: { pr: f.pr, from, to, reason: input.reason ?? reason, writer: input.writer } };
  };

  if (outcome.ok) return finish(planSuccess(f, outcome.record, cfg, input.queuePaths), false, false, successReason(f, outcome.record));

  if (isRateLimit(outcome.error) || (outcome.query === "full" && f.lists.has("stubborn"))) {
    return { ...noChanges(f.pr), counted: false, becomesStubborn: false };
  }
  const errorClass = errorClassOf(outcome.error);
  const message = typeof outcome.error === "string" ? undefined : errorMessage(outcome.error);
  const failure = planFailure(f, { errorClass, query: outcome.query, cfg, now: input.now, writer: input.writer, ...(message ? { message } : {}) });
  let reason = `${outcome.query} download failed: ${errorClass}`;
  if (failure.becomesStubborn) reason += `; ${plural(failure.attempts, "failed attempt")} reached the threshold of ${failure.threshold}`;
  return finish(failure.changes, true, failure.becomesStubborn, reason);
}
