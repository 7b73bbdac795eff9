// A plan of file changes for one PR: what a state-machine move (a download's outcome, an
// integrity fix) does to the data repo, as data. The transition planner and the fix planner
// produce it; the store applies it in one commit; `applyChanges` replays it on the PR's facts
// so the planners derive the state AFTER the move with the same `derivePrState` everyone uses
// (the trailer's "to" can never disagree with what the files will say). Pure: no I/O.
import type { Transition } from "../git/commit-message.js";
import { attemptsDir, basicDir, fullDir, tempDir, type ListName } from "../layout.js";
import { addEntries, removeEntries, removeLines, type ListFile } from "../lists/list-file.js";
import { parseLegacyAttempt } from "../store/legacy-attempts.js";
import type { PrFacts } from "./pr-facts.js";

export type { Transition };

/** A failed attempt to record; the shape `recordAttempt` (src/store/attempts-store.ts) takes. */
export interface AttemptToRecord {
  at: string;
  writer: string;
  errorClass: string;
  query: "full" | "basic";
  message?: string;
}

export interface PrChanges {
  pr: number;
  /** The downloaded record the caller writes in this commit (temp folder + rename). */
  writeRecord?: "full" | "basic";
  /** Record, temp or stray paths to delete; a path that does not exist is nothing to do. */
  removePaths: string[];
  /** Lists to add the PR to; never one that already names it. */
  addToLists: ListName[];
  /** Lists to remove every entry of the PR from (comments stay). */
  removeFromLists: ListName[];
  /**
   * Attempt files to delete: exactly those known when planning, so a failure another writer
   * records at the same time (a file of its own) survives the merge and still counts.
   */
  removeAttempts: string[];
  /** Delete this PR's legacy `-- second attempt for N` comment lines from every list. */
  removeLegacyAttempts: boolean;
  /** One failed attempt to record as a new file under state/attempts/N/. */
  recordAttempt?: AttemptToRecord;
  /** Queue files (state/queue/N/...) that the download answered. */
  removeQueue: string[];
}

export function noChanges(pr: number): PrChanges {
  return { pr, removePaths: [], addToLists: [], removeFromLists: [], removeAttempts: [], removeLegacyAttempts: false, removeQueue: [] };
}

export function isNoop(c: PrChanges): boolean {
  return (
    c.writeRecord === undefined &&
    c.recordAttempt === undefined &&
    !c.removeLegacyAttempts &&
    c.removePaths.length === 0 &&
    c.addToLists.length === 0 &&
    c.removeFromLists.length === 0 &&
    c.removeAttempts.length === 0 &&
    c.removeQueue.length === 0
  );
}

const union = <T>(a: readonly T[], b: readonly T[]): T[] => [...new Set([...a, ...b])];

/**
 * Both plans in one. Adding to a list wins over removing from it: demand for a download is
 * never dropped by combining two moves (a PR is at worst downloaded once more).
 */
export function mergeChanges(a: PrChanges, b: PrChanges): PrChanges {
  const addToLists = union(a.addToLists, b.addToLists);
  const out: PrChanges = {
    pr: a.pr,
    removePaths: union(a.removePaths, b.removePaths),
    addToLists,
    removeFromLists: union(a.removeFromLists, b.removeFromLists).filter((l) => !addToLists.includes(l)),
    removeAttempts: union(a.removeAttempts, b.removeAttempts),
    removeLegacyAttempts: a.removeLegacyAttempts || b.removeLegacyAttempts,
    removeQueue: union(a.removeQueue, b.removeQueue),
  };
  const writeRecord = b.writeRecord ?? a.writeRecord;
  if (writeRecord) out.writeRecord = writeRecord;
  const attempt = b.recordAttempt ?? a.recordAttempt;
  if (attempt) out.recordAttempt = attempt;
  return out;
}

/** The facts the PR will have once `c` is applied (record contents beyond validity are not modelled). */
export function applyChanges(f: PrFacts, c: PrChanges): PrFacts {
  const removed = new Set(c.removePaths);
  const out: PrFacts = {
    pr: f.pr,
    temp: f.temp && !(removed.has(tempDir(f.pr)) && removed.has(tempDir(f.pr, true))),
    lists: new Set([...f.lists].filter((l) => !c.removeFromLists.includes(l))),
    attempts: f.attempts.filter((a) => (a.path === undefined ? !c.removeLegacyAttempts : !c.removeAttempts.includes(a.path))),
    queued: f.queued.filter((q) => !c.removeQueue.includes(q.path)),
  };
  for (const l of c.addToLists) out.lists.add(l);
  if (f.full && !removed.has(fullDir(f.pr))) out.full = f.full;
  if (f.basic && !removed.has(basicDir(f.pr))) out.basic = f.basic;
  if (c.writeRecord === "full") out.full = { basic: false, valid: true, problems: [] };
  if (c.writeRecord === "basic") out.basic = { basic: true, valid: true, problems: [] };
  if (c.recordAttempt) {
    const a = c.recordAttempt;
    out.attempts.push({ at: a.at, writer: a.writer, errorClass: a.errorClass, query: a.query, path: `${attemptsDir(f.pr)}/${a.at.replace(/:/g, "-")}-${a.writer}.json` });
  }
  return out;
}

/**
 * Applies the list part of many PRs' changes to one list file: removals (entries and legacy
 * attempt comments), then additions in the order given. Every other line stays as it was.
 */
export function applyToList(list: ListFile, name: ListName, changes: Iterable<PrChanges>): ListFile {
  const remove: number[] = [];
  const add: number[] = [];
  const legacy = new Set<number>();
  for (const c of changes) {
    if (c.removeFromLists.includes(name)) remove.push(c.pr);
    if (c.addToLists.includes(name)) add.push(c.pr);
    if (c.removeLegacyAttempts) legacy.add(c.pr);
  }
  let out = remove.length > 0 ? removeEntries(list, remove) : list;
  if (legacy.size > 0) {
    out = removeLines(out, (l) => {
      if (l.type !== "comment") return false;
      const parsed = parseLegacyAttempt(l.raw);
      return parsed !== undefined && legacy.has(parsed.pr);
    });
  }
  return add.length > 0 ? addEntries(out, add) : out;
}

