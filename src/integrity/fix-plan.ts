// `prstate check --fix`: each finding becomes a state-machine move (DESIGN sections 2 and 8),
// planned here as file changes with one Transition per PR for the commit trailers. Pure.
//
// - broken-record / temp-leftover: the broken part goes; when that is a whole record (or an
//   interrupted download's temp folder) the PR counts one failed attempt, which may make it
//   stubborn, and is listed so it gets downloaded again: for re-download when a valid record
//   remains, else as missing (open PRs) or for backfill (closed ones). Stray files inside an
//   otherwise valid record are removed alone and count nothing: the record was fine.
// - both-full-and-basic: the older record goes (DESIGN 4). Nothing failed, so no attempt is
//   counted: counting would turn a healthy PR into a failing one.
// - outdated kinds (closed upstream, older than GitHub, force-pushed, CI stale or missing,
//   paranoid mismatch): listed in redownload.txt.
// - open-without-record: listed in missing_prs.txt.
// - satisfied-list-entry: the entry leaves its list. duplicate-list-entries: the list is
//   deduplicated (first occurrence kept, blank runs collapsed, comments kept).
// - stale-stubborn: joins stubborn_prs.txt and its attempts are cleared, as the transition
//   planner does when a failure reaches the threshold.
// - unexpected-entry: removed when it is prstate's own leftover: anything under state/ (its
//   bookkeeping), or an entry of data/ named after a PR (`data/123-old`, a stray file in a
//   record folder). Anything else (`data/README.md`) may be a person's and is left for one
//   (`unfixed`).
import type { Config } from "../config/config.js";
import { basicDir, fullDir, LIST_FILES, type ListName } from "../layout.js";
import { applyChanges, isNoop, mergeChanges, noChanges, type PrChanges, type Transition } from "../state/pr-changes.js";
import type { PrFacts } from "../state/pr-facts.js";
import { derivePrState, emptyFacts, isStubborn, stateLabel, validRecord } from "../state/pr-state.js";
import { planFailure } from "../state/transitions.js";
import { OUTDATED_KINDS, type Finding, type FindingKind } from "./checks.js";

export interface PrFix extends PrChanges {
  transition: Transition;
  /** The kinds of finding this move fixes. */
  kinds: FindingKind[];
}

export interface FixPlan {
  /** One move per PR, in PR order. */
  prs: PrFix[];
  /** Lists to deduplicate (list-file's dedupeList). */
  dedupe: ListName[];
  /** Stray paths that belong to no PR. */
  removePaths: string[];
  /** Findings no automatic move may fix. */
  unfixed: Finding[];
}

export interface FixContext {
  cfg: Config;
  /** Time of the attempts the fixes count. */
  now: Date;
  /** Workflow run or host id (attempt files, trailers). */
  writer: string;
}

const OWNED = /^(?:state\/|data\/[1-9][0-9]{0,9}(?:[-/.]|$))/;

function isOwnedPath(path: string): boolean {
  return OWNED.test(path) && !path.split("/").includes("..");
}

/** The facts after `c`, with records whose stray files were the only problem counted valid again. */
function factsAfter(f: PrFacts, c: PrChanges, healed: ReadonlySet<"full" | "basic">): PrFacts {
  const after = applyChanges(f, c);
  if (healed.has("full") && after.full) after.full = { ...after.full, valid: true, problems: [] };
  if (healed.has("basic") && after.basic) after.basic = { ...after.basic, valid: true, problems: [] };
  return after;
}

function fixPr(f: PrFacts, group: readonly Finding[], ctx: FixContext, unfixed: Finding[]): PrFix | undefined {
  let c = noChanges(f.pr);
  const healed = new Set<"full" | "basic">();
  const lost: Finding[] = [];
  let lostBasic = false;

  for (const g of group) {
    const paths = g.paths ?? [];
    if (g.kind === "unexpected-entry") {
      if (paths.every(isOwnedPath)) c.removePaths.push(...paths);
      else unfixed.push(g);
    } else if (g.kind === "broken-record") {
      const dir = paths.includes(fullDir(f.pr)) ? "full" : paths.includes(basicDir(f.pr)) ? "basic" : undefined;
      if (dir) {
        lost.push(g);
        lostBasic ||= dir === "basic";
      } else {
        // Only stray entries: which record they sit in decides which one heals.
        healed.add(paths.every((p) => p.startsWith(`${basicDir(f.pr)}/`)) ? "basic" : "full");
      }
      c.removePaths.push(...paths);
    } else if (g.kind === "temp-leftover") {
      lost.push(g);
      c.removePaths.push(...paths);
    } else if (g.kind === "both-full-and-basic") {
      c.removePaths.push(...paths);
    }
  }
  c.removePaths = [...new Set(c.removePaths)];

  if (lost.length > 0) {
    const after = factsAfter(f, c, healed);
    const failure = planFailure(after, {
      errorClass: lost.some((g) => g.kind === "broken-record") ? "BrokenRecord" : "InterruptedDownload",
      query: lostBasic || isStubborn(f, ctx.cfg) ? "basic" : "full",
      message: lost.map((g) => g.detail).join("; "),
      cfg: ctx.cfg,
      now: ctx.now,
      writer: ctx.writer,
      listIfNoRecord: lost.some((g) => g.list === "backfill") && !lost.some((g) => g.list === "missing") ? "backfill" : "missing",
    });
    c = mergeChanges(c, failure.changes);
  }

  const cur = factsAfter(f, c, healed);
  const demand = noChanges(f.pr);
  const add = (list: ListName) => {
    if (!cur.lists.has(list) && !demand.addToLists.includes(list)) demand.addToLists.push(list);
  };
  for (const g of group) {
    if (OUTDATED_KINDS.has(g.kind)) {
      if (validRecord(cur) && cur.queued.length === 0) add("redownload");
    } else if (g.kind === "open-without-record") {
      if (!validRecord(cur)) add(g.list ?? "missing");
    } else if (g.kind === "satisfied-list-entry") {
      if (g.list && cur.lists.has(g.list) && !demand.removeFromLists.includes(g.list)) demand.removeFromLists.push(g.list);
    } else if (g.kind === "stale-stubborn") {
      add("stubborn");
      // The files as they are (not an attempt this plan itself records).
      demand.removeAttempts = f.attempts.flatMap((a) => (a.path === undefined ? [] : [a.path]));
      demand.removeLegacyAttempts = f.attempts.some((a) => a.path === undefined);
    }
  }
  c = mergeChanges(c, demand);

  const deduped = group.some((g) => g.kind === "duplicate-list-entries");
  if (isNoop(c) && !deduped) return undefined;
  const from = stateLabel(derivePrState(f, ctx.cfg));
  const to = stateLabel(derivePrState(factsAfter(f, c, healed), ctx.cfg));
  const reason = [...new Set(group.map((g) => `${g.kind}: ${g.detail}`))].join("; ");
  return { ...c, transition: { pr: f.pr, from, to, reason, writer: ctx.writer }, kinds: [...new Set(group.map((g) => g.kind))] };
}

export function planFixes(findings: readonly Finding[], facts: Map<number, PrFacts>, ctx: FixContext): FixPlan {
  const plan: FixPlan = { prs: [], dedupe: [], removePaths: [], unfixed: [] };
  const byPr = new Map<number, Finding[]>();
  for (const g of findings) {
    if (g.kind === "duplicate-list-entries" && g.list && !plan.dedupe.includes(g.list)) plan.dedupe.push(g.list);
    if (g.pr !== undefined) {
      const list = byPr.get(g.pr);
      if (list) list.push(g);
      else byPr.set(g.pr, [g]);
    } else if (g.kind === "unexpected-entry") {
      const paths = g.paths ?? [];
      if (paths.length > 0 && paths.every(isOwnedPath)) plan.removePaths.push(...paths);
      else plan.unfixed.push(g);
    } else if (g.kind !== "duplicate-list-entries") {
      plan.unfixed.push(g);
    }
  }
  plan.dedupe.sort((a, b) => Object.keys(LIST_FILES).indexOf(a) - Object.keys(LIST_FILES).indexOf(b));
  for (const pr of [...byPr.keys()].sort((a, b) => a - b)) {
    const fix = fixPr(facts.get(pr) ?? emptyFacts(pr), byPr.get(pr)!, ctx, plan.unfixed);
    if (fix) plan.prs.push(fix);
  }
  plan.removePaths = [...new Set(plan.removePaths)];
  return plan;
}
