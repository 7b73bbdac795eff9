// Which PRs a webhook (or GitHub Actions) event is about, and how much must be fetched for
// them (DESIGN 6.1, 6.2). Pure: the receiver, the spool drain and the Actions adapter all
// call this, so the three intakes agree on what an event means.
//
// Events are hints. A mapped event only says "PR N may have changed"; the worker always
// fetches N's current state, so nothing here needs to be exact about order or duplicates,
// and an event that cannot be tied to a PR is dropped with a reason, never an error
// (polling and the integrity check catch whatever a dropped hint would have said).
import { prNumber } from "../layout.js";

export type FetchKind = "full" | "basic";

export interface EventWork {
  /** PRs to re-download, ascending, without duplicates. */
  prs: number[];
  /** Head SHAs the event names (the PR head, the CI run's commit, the force-pushed commit). */
  shas: string[];
  kind: FetchKind;
}

export type EventMapping = EventWork | { ignored: string };

/** Events this module maps to PRs. Anything else is ignored (and refused by the subscription). */
export const HANDLED_EVENTS = [
  "pull_request",
  "pull_request_target",
  "pull_request_review",
  "pull_request_review_comment",
  "pull_request_review_thread",
  "issue_comment",
  "check_suite",
  "check_run",
  "workflow_run",
  "status",
  "push",
  "repository_dispatch",
  "workflow_dispatch",
] as const;

// The "basic" rule: a `pull_request` action may use the basic query only when every field
// it can change is one the basic query (fixtures/queries/basic_pr_info.graphql) returns:
// labels (labeled/unlabeled), title and body (edited, unless the base branch changed: that
// changes the commit list), isDraft (converted_to_draft/ready_for_review) and assignees
// (assigned/unassigned). `milestoned`/`demilestoned` need the full query: the basic query
// has no `milestone` field. Everything else (pushes, reviews, comments, CI, close/merge)
// changes data only the full query returns, so it is "full".
const BASIC_ACTIONS = new Set(["labeled", "unlabeled", "edited", "converted_to_draft", "ready_for_review", "assigned", "unassigned"]);

const PR_OBJECT_EVENTS = new Set([
  "pull_request",
  "pull_request_target",
  "pull_request_review",
  "pull_request_review_comment",
  "pull_request_review_thread",
]);

const CI_OBJECT: Record<string, string> = { check_suite: "check_suite", check_run: "check_run", workflow_run: "workflow_run" };

/** What the payload names directly, before SHAs are resolved through the records' index. */
type Targets = { prs: number[]; lookup: string[]; shas: string[]; kind: FetchKind } | { ignored: string };

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

function toPr(v: unknown): number | undefined {
  try {
    return prNumber(v);
  } catch {
    return undefined;
  }
}

const SHA_RE = /^[0-9a-f]{40}$/;
const ZERO_SHA = "0".repeat(40);

function sha(v: unknown): string | undefined {
  const s = str(v)?.toLowerCase();
  return s !== undefined && SHA_RE.test(s) && s !== ZERO_SHA ? s : undefined;
}

function uniqueSorted(ns: number[]): number[] {
  return [...new Set(ns)].sort((a, b) => a - b);
}

/**
 * PR numbers of a CI payload's `pull_requests`. GitHub lists PRs of OTHER repositories whose
 * head is the same commit (a fork's own PRs); those numbers mean nothing here, so an entry
 * whose base repository differs from the payload's repository is skipped.
 */
function ciPullRequests(list: unknown, repoId: unknown): number[] {
  if (!Array.isArray(list)) return [];
  const out: number[] = [];
  for (const entry of list) {
    const e = obj(entry);
    const n = toPr(e?.number);
    if (n === undefined) continue;
    const baseRepoId = obj(obj(e?.base)?.repo)?.id;
    if (repoId !== undefined && baseRepoId !== undefined && baseRepoId !== repoId) continue;
    out.push(n);
  }
  return out;
}

/** PR numbers from a `repository_dispatch` client_payload or `workflow_dispatch` inputs. */
function explicitPrs(bag: Record<string, unknown> | undefined): number[] | undefined {
  if (!bag) return undefined;
  const raw: unknown[] = [];
  if (bag.pr !== undefined) raw.push(bag.pr);
  if (Array.isArray(bag.prs)) raw.push(...bag.prs);
  // workflow_dispatch inputs are strings: "12 34" or "12,34".
  else if (typeof bag.prs === "string") raw.push(...bag.prs.split(/[\s,]+/).filter((s) => s !== ""));
  else if (typeof bag.prs === "number") raw.push(bag.prs);
  if (raw.length === 0) return undefined;
  const prs = raw.map(toPr);
  if (prs.some((n) => n === undefined)) return [];
  return prs as number[];
}

function targets(event: string, payload: unknown): Targets {
  const p = obj(payload);
  if (!p) return { ignored: `${event}: payload is not an object` };
  const action = str(p.action);
  const key = action ? `${event}.${action}` : event;

  if (PR_OBJECT_EVENTS.has(event)) {
    const pr = obj(p.pull_request);
    const n = toPr(pr?.number);
    if (n === undefined) return { ignored: `${key}: no valid pull_request.number` };
    const head = sha(obj(pr?.head)?.sha);
    let kind: FetchKind = "full";
    if ((event === "pull_request" || event === "pull_request_target") && action && BASIC_ACTIONS.has(action)) {
      kind = action === "edited" && obj(p.changes)?.base !== undefined ? "full" : "basic";
    }
    return { prs: [n], lookup: [], shas: head ? [head] : [], kind };
  }

  if (event === "issue_comment") {
    const issue = obj(p.issue);
    // Comments on plain issues arrive as issue_comment too; only those on PRs carry issue.pull_request.
    if (!issue || issue.pull_request === undefined || issue.pull_request === null) return { ignored: `${key}: comment on an issue, not a PR` };
    const n = toPr(issue.number);
    if (n === undefined) return { ignored: `${key}: no valid issue.number` };
    return { prs: [n], lookup: [], shas: [], kind: "full" };
  }

  const ciField = CI_OBJECT[event];
  if (ciField !== undefined) {
    const run = obj(p[ciField]);
    if (!run) return { ignored: `${key}: no ${ciField} object` };
    const head = sha(run.head_sha) ?? sha(obj(run.check_suite)?.head_sha);
    const prs = ciPullRequests(run.pull_requests, obj(p.repository)?.id);
    if (prs.length > 0) return { prs, lookup: [], shas: head ? [head] : [], kind: "full" };
    // Fork PRs (and some apps) send an empty pull_requests list: resolve by head SHA.
    if (!head) return { ignored: `${key}: empty pull_requests and no head SHA` };
    return { prs: [], lookup: [head], shas: [head], kind: "full" };
  }

  if (event === "status") {
    const s = sha(p.sha);
    if (!s) return { ignored: `status: no valid sha` };
    return { prs: [], lookup: [s], shas: [s], kind: "full" };
  }

  if (event === "push") {
    if (p.forced !== true) return { ignored: `push: not a forced push (ordinary pushes arrive as pull_request.synchronize)` };
    const after = sha(p.after);
    const before = sha(p.before);
    const ref = str(p.ref);
    // The records still hold the OLD head after a force-push, so `before` is what the index
    // knows; `after` covers a record that is already current; the ref covers PRs whose
    // index entry is keyed by `refs/heads/<headRefName>` (see mapEvent).
    const lookup = [after, before, ref].filter((x): x is string => x !== undefined);
    if (lookup.length === 0) return { ignored: `push: no after/before SHA or ref` };
    return { prs: [], lookup, shas: after ? [after] : [], kind: "full" };
  }

  if (event === "repository_dispatch" || event === "workflow_dispatch") {
    const bag = obj(event === "repository_dispatch" ? p.client_payload : p.inputs);
    const prs = explicitPrs(bag);
    if (prs === undefined) return { ignored: `${event}: no pr/prs in ${event === "repository_dispatch" ? "client_payload" : "inputs"}` };
    if (prs.length === 0) return { ignored: `${event}: pr/prs is not a list of PR numbers` };
    const kind: FetchKind = bag?.kind === "basic" ? "basic" : "full";
    return { prs, lookup: [], shas: [], kind };
  }

  if (event === "ping") return { ignored: "ping" };
  return { ignored: `${key}: prstate does not map ${event} events to PRs` };
}

/**
 * Maps a webhook/Actions event to the PRs it concerns and the query they need.
 *
 * `shaIndex` maps head SHAs (the `headRefOid` of the records held) to PR numbers; it may also
 * hold `refs/heads/<headRefName>` keys for same-repository PRs (used by forced pushes; a key
 * of that shape can never collide with a SHA). CI events and `status` resolve through it when
 * the payload names no PR; a SHA it does not know gives `{ ignored }` with the reason.
 */
export function mapEvent(event: string, payload: unknown, shaIndex: ReadonlyMap<string, number>): EventMapping {
  const t = targets(event, payload);
  if ("ignored" in t) return t;
  const prs = [...t.prs];
  for (const key of t.lookup) {
    const n = shaIndex.get(key);
    if (n !== undefined) prs.push(n);
  }
  if (prs.length === 0) {
    return { ignored: `${event}: no PR record has head ${t.lookup[0]!.slice(0, 12)}${t.lookup.length > 1 ? ` (nor ${t.lookup.slice(1).map((s) => s.slice(0, 12)).join(", ")})` : ""}` };
  }
  return { prs: uniqueSorted(prs), shas: [...new Set(t.shas)], kind: t.kind };
}

/**
 * The reason an event can never map to a PR whatever records exist (a comment on a plain
 * issue, an ordinary push, a payload without the fields), or undefined when it might. The
 * receiver uses this to answer 204 instead of spooling events that the drain would drop.
 */
export function screenEvent(event: string, payload: unknown): string | undefined {
  const t = targets(event, payload);
  return "ignored" in t ? t.ignored : undefined;
}

function pick(o: Record<string, unknown> | undefined, keys: string[]): Record<string, unknown> | undefined {
  if (!o) return undefined;
  const out: Record<string, unknown> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

function reducePrList(list: unknown): unknown {
  if (!Array.isArray(list)) return list;
  return list.map((e) => {
    const o = obj(e);
    const repoId = obj(obj(o?.base)?.repo)?.id;
    return { number: o?.number, ...(repoId !== undefined ? { base: { repo: { id: repoId } } } : {}) };
  });
}

/**
 * The part of a payload that `mapEvent` reads, so a spool holds a few hundred bytes per
 * event instead of up to 25 MB of someone's PR body and diff stats.
 * Invariant (tested): mapEvent(e, reducePayload(e, p), i) equals mapEvent(e, p, i).
 */
export function reducePayload(event: string, payload: unknown): Record<string, unknown> {
  const p = obj(payload) ?? {};
  const out: Record<string, unknown> = {};
  if (typeof p.action === "string") out.action = p.action;
  const repo = obj(p.repository);
  if (repo) out.repository = pick(repo, ["id", "full_name"]);
  if (PR_OBJECT_EVENTS.has(event)) {
    const pr = obj(p.pull_request);
    if (pr) out.pull_request = { number: pr.number, ...(obj(pr.head) ? { head: pick(obj(pr.head), ["sha", "ref"]) } : {}) };
    const changes = obj(p.changes);
    if (changes) out.changes = Object.fromEntries(Object.keys(changes).map((k) => [k, true]));
  } else if (event === "issue_comment") {
    const issue = obj(p.issue);
    if (issue) out.issue = { number: issue.number, ...(issue.pull_request !== undefined && issue.pull_request !== null ? { pull_request: {} } : {}) };
  } else if (CI_OBJECT[event] !== undefined) {
    const field = CI_OBJECT[event]!;
    const run = obj(p[field]);
    if (run) {
      out[field] = {
        ...pick(run, ["id", "head_sha", "head_branch", "status", "conclusion"]),
        ...(run.pull_requests !== undefined ? { pull_requests: reducePrList(run.pull_requests) } : {}),
        ...(obj(run.check_suite) ? { check_suite: pick(obj(run.check_suite), ["head_sha"]) } : {}),
      };
    }
  } else if (event === "status") {
    Object.assign(out, pick(p, ["sha", "state", "context"]));
  } else if (event === "push") {
    Object.assign(out, pick(p, ["ref", "before", "after", "forced", "deleted"]));
  } else if (event === "repository_dispatch") {
    const cp = obj(p.client_payload);
    if (cp) out.client_payload = pick(cp, ["pr", "prs", "kind"]);
  } else if (event === "workflow_dispatch") {
    const inputs = obj(p.inputs);
    if (inputs) out.inputs = pick(inputs, ["pr", "prs", "kind"]);
  }
  return out;
}
