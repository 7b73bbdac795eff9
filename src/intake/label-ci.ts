// Optional `prstate label-ci` (off unless a workflow runs it): an `awaiting-CI` label while a
// PR's CI runs, so that CI completion also shows up as a label event for tools that only
// watch labels. Pure: it plans label changes; the caller applies them (a label that is
// already gone when removed is fine).
//
// Added on pull_request opened/reopened/synchronize (a new head whose CI starts now).
// Removed on check_suite.completed (all of one app's checks for the commit are done) and
// workflow_run.completed; with `workflows` set, only the named workflow runs count and
// check suites are not used. A completion for a commit that is no longer the PR's head
// (the PR was pushed to meanwhile) removes nothing: the new head's CI is still running.
import { mapEvent } from "./event-to-work.js";

export const AWAITING_CI_LABEL = "awaiting-CI";

export interface LabelAction {
  op: "add" | "remove";
  pr: number;
  label: string;
}

export interface LabelCiOptions {
  label?: string;
  /** Names of the workflows that are "CI" (workflow_run.name). Default: every workflow run and check suite. */
  workflows?: readonly string[];
  /** Head SHA -> PR for completions with an empty pull_requests list (fork PRs). */
  shaIndex?: ReadonlyMap<string, number>;
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

const START_ACTIONS = new Set(["opened", "reopened", "synchronize"]);

export function planLabelCi(event: string, payload: unknown, options: LabelCiOptions = {}): LabelAction[] {
  const label = options.label ?? AWAITING_CI_LABEL;
  const p = obj(payload);
  if (!p) return [];
  const action = p.action;

  if (event === "pull_request" || event === "pull_request_target") {
    const pr = obj(p.pull_request);
    if (typeof action !== "string" || !START_ACTIONS.has(action) || pr?.state === "closed") return [];
    const labels = Array.isArray(pr?.labels) ? pr.labels.map((l) => obj(l)?.name) : [];
    if (labels.includes(label)) return [];
    const work = mapEvent(event, payload, new Map());
    return "ignored" in work ? [] : work.prs.map((n) => ({ op: "add", pr: n, label }));
  }

  const isSuite = event === "check_suite";
  if ((!isSuite && event !== "workflow_run") || action !== "completed") return [];
  const run = obj(p[event]);
  if (options.workflows !== undefined) {
    if (isSuite || typeof run?.name !== "string" || !options.workflows.includes(run.name)) return [];
  }
  const work = mapEvent(event, payload, options.shaIndex ?? new Map());
  if ("ignored" in work) return [];
  const runSha = typeof run?.head_sha === "string" ? run.head_sha.toLowerCase() : undefined;
  const staleFor = new Set<number>();
  for (const entry of Array.isArray(run?.pull_requests) ? run.pull_requests : []) {
    const e = obj(entry);
    const headSha = obj(e?.head)?.sha;
    if (typeof e?.number === "number" && typeof headSha === "string" && runSha !== undefined && headSha.toLowerCase() !== runSha) staleFor.add(e.number);
  }
  return work.prs.filter((n) => !staleFor.has(n)).map((n) => ({ op: "remove", pr: n, label }));
}
