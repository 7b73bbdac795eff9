// Refreshing a full record from the basic query (DESIGN 6.2: a label change does not need
// the commit list of a 300-commit PR). Pure.
//
// The splice is only allowed when it keeps the record true to its `updatedAt`: every field
// the basic response shares with the full record, apart from the few a label/title/draft
// event changes, must be unchanged. If comments, reviews, files or line counts moved, more
// happened than the event said, and the caller falls back to the full query.
import { isRecordDoc } from "../merge/record-meta.js";

/** Fields an `edited`/`labeled`/`converted_to_draft`/... event may change; copied from the basic response. */
const SPLICED = ["title", "body", "isDraft", "labels", "state", "closed", "closedAt", "baseRefName", "updatedAt"] as const;
/** Fields that must be equal in both for the splice to be safe. */
const MUST_MATCH = ["number", "id", "additions", "deletions", "changedFiles", "headRefName", "isCrossRepository", "files", "statusCheckRollup"] as const;

type Pull = Record<string, unknown>;

function pullOf(doc: unknown): Pull | undefined {
  if (!isRecordDoc(doc)) return undefined;
  return (doc as { data: { repository: { pullRequest: Pull } } }).data.repository.pullRequest;
}

function ids(conn: unknown): string | undefined {
  const nodes = (conn as { nodes?: unknown[] } | null | undefined)?.nodes;
  if (!Array.isArray(nodes)) return undefined;
  return nodes.map((n) => String((n as { id?: unknown })?.id ?? "")).join(",");
}

const instant = (v: unknown) => (typeof v === "string" ? Date.parse(v) : Number.NaN);

/**
 * The full record `full` refreshed with `basic`'s fields, or undefined when the splice could
 * misrepresent the PR (then download the full record instead).
 */
export function spliceBasicIntoFull(full: unknown, basic: unknown): unknown | undefined {
  const f = pullOf(full);
  const b = pullOf(basic);
  if (!f || !b) return undefined;
  // Never move a record backwards, and a splice only explains a change GitHub timestamped.
  if (!(instant(b.updatedAt) >= instant(f.updatedAt))) return undefined;
  for (const key of MUST_MATCH) {
    if (key in b && key in f && JSON.stringify(b[key]) !== JSON.stringify(f[key])) return undefined;
  }
  // New comments or reviews mean the reactions and review threads changed too.
  for (const key of ["comments", "reviews"] as const) {
    if (key in b && key in f && ids(b[key]) !== ids(f[key])) return undefined;
  }
  const pull: Pull = { ...f };
  for (const key of SPLICED) if (key in b) pull[key] = b[key];
  const doc = full as { data: { repository: Record<string, unknown> } } & Record<string, unknown>;
  return { ...doc, data: { ...doc.data, repository: { ...doc.data.repository, pullRequest: pull } } };
}
