// Applies the planners' PrChanges to the data repo's files (the I/O half of a state-machine
// move). The record itself is written by the downloader before this runs; here go the list
// edits, attempt files, removals and consumed queue files. Returns every repo-relative path
// it touched, so the commit stages exactly those (never a `-temp` folder).
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { classifyPath, LIST_FILES, attemptsDir, type ListName } from "../layout.js";
import { removeQueued } from "../intake/queue-store.js";
import { removeTree } from "../store/atomic-write.js";
import { recordAttempt } from "../store/attempts-store.js";
import { LIST_NAMES, readList, writeList } from "../store/list-store.js";
import { applyToList, type PrChanges } from "../state/pr-changes.js";
import { dedupeList } from "../lists/list-file.js";
import type { FixPlan } from "../integrity/fix-plan.js";

export async function applyPrChanges(repo: string, all: readonly PrChanges[]): Promise<string[]> {
  const touched = new Set<string>();
  if (all.length === 0) return [];

  // Lists: each read once and written once, whatever the number of PRs that move.
  for (const name of LIST_NAMES) {
    const concerned = all.filter((c) => c.addToLists.includes(name) || c.removeFromLists.includes(name) || c.removeLegacyAttempts);
    if (concerned.length === 0) continue;
    const before = await readList(repo, name);
    if (await writeList(repo, name, applyToList(before, name, concerned))) touched.add(LIST_FILES[name as ListName]);
  }

  for (const c of all) {
    for (const p of c.removePaths) {
      // Only paths of the data layout: a bug upstream must never delete anything else.
      if (!/^(data|state)\//.test(p) || p.split("/").includes("..")) continue;
      await removeTree(join(repo, p));
      touched.add(p);
    }
    for (const p of c.removeAttempts) {
      if (classifyPath(p).kind !== "attempt") continue;
      await rm(join(repo, p), { force: true });
      touched.add(p);
    }
    if (c.removeAttempts.length > 0) touched.add(attemptsDir(c.pr));
    if (c.removeQueue.length > 0) {
      await removeQueued(repo, c.removeQueue);
      for (const p of c.removeQueue) touched.add(p);
    }
    if (c.recordAttempt) touched.add(await recordAttempt(repo, c.pr, c.recordAttempt));
  }
  return [...touched].sort();
}

/** Applies an integrity fix plan: the per-PR moves, the stray paths, the list de-duplication. */
export async function applyFixPlan(repo: string, plan: FixPlan): Promise<string[]> {
  const touched = new Set(await applyPrChanges(repo, plan.prs));
  if (plan.removePaths.length > 0) {
    const strays: PrChanges = { pr: 0, removePaths: plan.removePaths, addToLists: [], removeFromLists: [], removeAttempts: [], removeLegacyAttempts: false, removeQueue: [] };
    for (const p of await applyPrChanges(repo, [strays])) touched.add(p);
  }
  for (const name of plan.dedupe) {
    if (await writeList(repo, name, dedupeList(await readList(repo, name)))) touched.add(LIST_FILES[name]);
  }
  return [...touched].sort();
}
