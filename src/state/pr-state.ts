// The PR state machine's states (DESIGN section 2), derived from what the files of the data
// repo say about one PR (PrFacts), never from memory: every writer that sees the same files
// derives the same state. Pure: no I/O.
//
// The files can say several things at once (a PR listed as missing that also has attempt
// files, a stubborn PR that is also listed for re-download). Precedence, first match wins:
//
//  1. stubborn: listed in stubborn_prs.txt, or k attempts with k at or above the threshold
//     (DESIGN: failing(k) is "k below the threshold"; the list catches up with the files when
//     two writers each recorded a failure and the merge added both, see "stale-stubborn"):
//       a valid record, no attempts, not listed in redownload.txt, not queued -> fresh (basic
//       when that record is the basic one): the "stubborn -> fresh (basic)" of DESIGN 2;
//       otherwise                                                           -> stubborn.
//     Stubbornness decides the query regime, so it outranks every other fact.
//  2. k attempt files (or legacy `-- second attempt for N` comments), k below the threshold
//                                                                           -> failing(k).
//     Failing outranks outdated and missing: it is what holds the PR in backoff.
//  3. a valid record: listed in redownload.txt or queued                  -> outdated;
//                     otherwise                                           -> fresh.
//     A valid record that is still listed in missing_prs.txt / closed_prs_to_backfill.txt is
//     fresh: the listing is stale ("satisfied-list-entry") and the integrity check prunes it.
//  4. no valid record, but listed in any list, queued, or a broken record  -> missing.
//     (A broken record is no data; the integrity check removes it and lists the PR.)
//  5. nothing at all (a leftover -temp folder alone is not a record)      -> absent.
import type { Config } from "../config/config.js";
import type { PrFacts, RecordFacts } from "./pr-facts.js";

export type PrState =
  | { name: "absent" }
  | { name: "missing" }
  | { name: "fresh"; basic: boolean }
  | { name: "outdated" }
  | { name: "failing"; attempts: number }
  | { name: "stubborn" };

export type PrStateName = PrState["name"];

/** Facts of a PR that no file mentions: the starting point for a PR seen only on GitHub. */
export function emptyFacts(pr: number): PrFacts {
  return { pr, temp: false, lists: new Set(), attempts: [], queued: [] };
}

function timeOf(iso: string | undefined): number {
  const t = iso === undefined ? Number.NaN : Date.parse(iso);
  return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
}

/**
 * The record that stands for the PR: the only valid one, or, when both a full and a basic
 * record are valid, the newer by `updatedAt` then fetch time, a full record winning a tie
 * (the rule of DESIGN section 4 for `data/N` vs `data/N-basic`).
 */
export function validRecord(f: PrFacts): RecordFacts | undefined {
  const full = f.full?.valid ? f.full : undefined;
  const basic = f.basic?.valid ? f.basic : undefined;
  if (!full || !basic) return full ?? basic;
  return newerRecord(full, basic);
}

/** The newer of two records (updatedAt, then fetch time; a known time beats none); `a` wins a tie. */
export function newerRecord(a: RecordFacts, b: RecordFacts): RecordFacts {
  const ua = timeOf(a.updatedAt);
  const ub = timeOf(b.updatedAt);
  if (ua !== ub) return ub > ua ? b : a;
  return timeOf(b.fetchedAt) > timeOf(a.fetchedAt) ? b : a;
}

/** Attempts before a PR becomes stubborn: fewer for a PR without data than for a re-download. */
export function attemptThreshold(f: PrFacts, cfg: Config): number {
  return validRecord(f) ? cfg.thresholds.attemptsRedownload : cfg.thresholds.attemptsMissing;
}

/** Listed for re-download or queued: the record exists but something asked for a newer one. */
export function wantsRedownload(f: PrFacts): boolean {
  return f.lists.has("redownload") || f.queued.length > 0;
}

/** Listed in stubborn_prs.txt, or as many attempts as the threshold (the list not caught up yet). */
export function isStubborn(f: PrFacts, cfg: Config): boolean {
  return f.lists.has("stubborn") || f.attempts.length >= attemptThreshold(f, cfg);
}

/**
 * Something asks for a download of the PR: with a valid record, a re-download listing or a
 * queued event (a missing/backfill listing is then satisfied, not demand); without one, any
 * list, or a queued event.
 */
export function hasDemand(f: PrFacts): boolean {
  if (validRecord(f)) return wantsRedownload(f);
  return f.lists.size > 0 || f.queued.length > 0;
}

export function derivePrState(f: PrFacts, cfg: Config): PrState {
  const record = validRecord(f);
  const attempts = f.attempts.length;
  if (isStubborn(f, cfg)) {
    if (record && attempts === 0 && !wantsRedownload(f)) return { name: "fresh", basic: record.basic };
    return { name: "stubborn" };
  }
  if (attempts > 0) return { name: "failing", attempts };
  if (record) return wantsRedownload(f) ? { name: "outdated" } : { name: "fresh", basic: record.basic };
  if (f.lists.size > 0 || f.queued.length > 0 || f.full !== undefined || f.basic !== undefined) return { name: "missing" };
  return { name: "absent" };
}

/** The state as written in commit trailers and status output: "missing", "fresh (basic)", "failing(2)". */
export function stateLabel(s: PrState): string {
  switch (s.name) {
    case "fresh":
      return s.basic ? "fresh (basic)" : "fresh";
    case "failing":
      return `failing(${s.attempts})`;
    default:
      return s.name;
  }
}

/** Reads a label written by `stateLabel` back (for `prstate history`); undefined if it is none. */
export function parseStateLabel(label: string): PrState | undefined {
  const text = label.trim();
  if (text === "absent" || text === "missing" || text === "outdated" || text === "stubborn") return { name: text };
  if (text === "fresh") return { name: "fresh", basic: false };
  if (/^fresh\s*\(basic\)$/.test(text)) return { name: "fresh", basic: true };
  const m = /^failing\((\d{1,6})\)$/.exec(text);
  if (m && Number(m[1]) > 0) return { name: "failing", attempts: Number(m[1]) };
  return undefined;
}
