// The REST `pull` object of a simulated PR (GET /repos/{o}/{r}/pulls[/{n}]): the fields
// GitHub sends, filled from the PR's summary so REST and GraphQL agree. Pure.
import type { SimPrSummary } from "./pr-docs.js";

export interface RestContext {
  baseUrl: string;
  owner: string;
  repo: string;
}

export function restPull(s: SimPrSummary, body: unknown, ctx: RestContext): Record<string, unknown> {
  const api = `${ctx.baseUrl}/repos/${ctx.owner}/${ctx.repo}`;
  const html = s.url || `https://github.com/${ctx.owner}/${ctx.repo}/pull/${s.number}`;
  const repo = { id: 1, name: ctx.repo, full_name: `${ctx.owner}/${ctx.repo}`, owner: { login: ctx.owner, type: "Organization" } };
  return {
    url: `${api}/pulls/${s.number}`,
    id: 1_000_000_000 + s.number,
    node_id: s.nodeId,
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: `${api}/issues/${s.number}`,
    number: s.number,
    state: s.state,
    locked: false,
    title: s.title,
    user: { login: s.author, type: s.author.endsWith("[bot]") ? "Bot" : "User" },
    body: typeof body === "string" ? body : null,
    created_at: s.createdAt,
    updated_at: s.updatedAt,
    closed_at: s.closedAt,
    merged_at: s.mergedAt,
    merge_commit_sha: null,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    labels: s.labels.map((name) => ({
      id: labelId(name),
      node_id: `LA_sim${Buffer.from(name).toString("base64url")}`,
      url: `${api}/labels/${encodeURIComponent(name)}`,
      name,
      color: "ededed",
      default: false,
      description: null,
    })),
    milestone: null,
    draft: s.draft,
    commits_url: `${api}/pulls/${s.number}/commits`,
    head: { label: `${ctx.owner}:${s.headRef}`, ref: s.headRef, sha: s.headSha, user: repo.owner, repo },
    base: { label: `${ctx.owner}:${s.baseRef}`, ref: s.baseRef, sha: "0".repeat(40), user: repo.owner, repo },
    author_association: "CONTRIBUTOR",
    auto_merge: null,
    active_lock_reason: null,
  };
}

function labelId(name: string): number {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h;
}
