// The simulator's knowledge of one PR is its recorded GraphQL documents. These pure
// functions read them (summary fields for REST), derive the answers that were not recorded
// (basic from full, empty reaction groups), and edit them consistently for mutations, so
// the REST listing, the three queries and `updatedAt` always tell the same story.
import { queryText } from "../github/queries.js";
import { parseSelection, project, type Selection } from "./graphql-projection.js";

export type Obj = Record<string, unknown>;
/** `{"data":{"repository":{"pullRequest":{...}}}}` as recorded. */
export type PrDoc = { data: Obj } & Obj;

export interface PrDocs {
  /** The full query's answer; absent for PRs recorded only in basic form (stubborn PRs). */
  prInfo?: PrDoc;
  /** A recorded basic answer; absent means "derive it from prInfo". */
  basic?: PrDoc;
  /** A recorded reactions answer; absent means "empty reaction groups for every comment and review". */
  reactions?: PrDoc;
}

/** What the REST endpoints show of a PR; always in step with the documents. */
export interface SimPrSummary {
  number: number;
  nodeId: string;
  url: string;
  title: string;
  state: "open" | "closed";
  merged: boolean;
  draft: boolean;
  labels: string[];
  author: string;
  baseRef: string;
  headRef: string;
  headSha: string;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  mergedAt: string | null;
  /** False for PRs that only have basic data: their full query fails like GitHub's does on huge PRs. */
  hasFull: boolean;
}

export const REACTION_CONTENTS = ["THUMBS_UP", "THUMBS_DOWN", "LAUGH", "HOORAY", "CONFUSED", "HEART", "ROCKET", "EYES"] as const;

export function pullRequestOf(doc: PrDoc | undefined): Obj | undefined {
  const repository = doc?.data?.repository as Obj | undefined;
  const pr = repository?.pullRequest;
  return typeof pr === "object" && pr !== null ? (pr as Obj) : undefined;
}

export function primaryDoc(docs: PrDocs): PrDoc {
  const doc = docs.prInfo ?? docs.basic;
  if (!pullRequestOf(doc)) throw new Error("a simulated PR needs a pr_info or basic_pr_info document");
  return doc!;
}

export function cloneDocs(docs: PrDocs): PrDocs {
  return structuredClone(docs);
}

/** Reads the REST-visible fields. `headSha` is needed for basic-only PRs (the basic query has no headRefOid). */
export function readSummary(docs: PrDocs, fallbackHeadSha: string): SimPrSummary {
  const pr = pullRequestOf(primaryDoc(docs))!;
  const state = String(pr.state ?? "OPEN");
  const labels = ((pr.labels as Obj | undefined)?.nodes as Obj[] | undefined) ?? [];
  return {
    number: Number(pr.number),
    nodeId: String(pr.id ?? ""),
    url: String(pr.url ?? ""),
    title: String(pr.title ?? ""),
    state: state === "OPEN" ? "open" : "closed",
    merged: state === "MERGED" || typeof pr.mergedAt === "string",
    draft: pr.isDraft === true,
    labels: labels.map((l) => String(l.name)),
    author: String((pr.author as Obj | null | undefined)?.login ?? "ghost"),
    baseRef: String(pr.baseRefName ?? "master"),
    headRef: String(pr.headRefName ?? `pr-${String(pr.number)}`),
    headSha: typeof pr.headRefOid === "string" ? pr.headRefOid : fallbackHeadSha,
    createdAt: String(pr.createdAt),
    updatedAt: String(pr.updatedAt),
    closedAt: typeof pr.closedAt === "string" ? pr.closedAt : null,
    mergedAt: typeof pr.mergedAt === "string" ? pr.mergedAt : null,
    hasFull: docs.prInfo !== undefined,
  };
}

let basicSelection: Selection | undefined;

/** The basic query's answer, cut out of a recorded full answer. */
export function deriveBasic(prInfo: PrDoc): PrDoc {
  basicSelection ??= parseSelection(queryText("basic"));
  return { data: project(prInfo.data, basicSelection) as Obj };
}

/** The reactions answer when none was recorded: every comment, thread comment and review, nobody reacted. */
export function deriveReactions(doc: PrDoc): PrDoc {
  const pr = pullRequestOf(doc)!;
  const groups = () => REACTION_CONTENTS.map((content) => ({ content, users: { nodes: [] } }));
  const nodes = (conn: unknown) => (((conn as Obj | null | undefined)?.nodes as Obj[] | undefined) ?? []);
  return {
    data: {
      repository: {
        pullRequest: {
          comments: { nodes: nodes(pr.comments).slice(0, 100).map((c) => ({ id: c.id, reactionGroups: groups() })) },
          reviewThreads: {
            nodes: nodes(pr.reviewThreads)
              .slice(0, 100)
              .map((t) => ({ comments: { nodes: nodes(t.comments).slice(0, 70).map((c) => ({ id: c.id, reactionGroups: groups() })) } })),
          },
          reviews: { nodes: nodes(pr.reviews).slice(0, 100).map((r) => ({ id: r.id, reactionGroups: groups() })) },
        },
      },
    },
  };
}

/** The reactions answer as served: the recorded (or derived) one plus the PR's `updatedAt`. */
export function reactionsAnswer(docs: PrDocs, updatedAt: string): PrDoc {
  const base = docs.reactions ? structuredClone(docs.reactions) : deriveReactions(primaryDoc(docs));
  pullRequestOf(base)!.updatedAt = updatedAt;
  return base;
}

export function basicAnswer(docs: PrDocs): PrDoc {
  return docs.basic ? structuredClone(docs.basic) : deriveBasic(docs.prInfo!);
}

/** A change to a PR, as tests and the demo describe it. */
export interface PrPatch {
  title?: string;
  state?: "open" | "closed" | "merged";
  headSha?: string;
  isDraft?: boolean;
  labels?: string[];
  /** New comment (by `sim-user`) in comments and the timeline. */
  commentBody?: string;
  /** Sets every check run of the head commit (CI result); GitHub does not bump updatedAt for it. */
  ci?: "SUCCESS" | "FAILURE" | "IN_PROGRESS";
}

/** Identity fields of a cloned PR (generation, addPr). */
export interface PrIdentity {
  number: number;
  nodeId: string;
  title: string;
  createdAt: string;
  updatedAt: string;
  headSha: string;
}

/**
 * Applies `patch` to every document of `docs` in place (callers pass their own copies).
 * `updatedAt` is set when given. Only keys a document already has are written, so a basic
 * document never gains full-query fields.
 */
export function patchDocs(docs: PrDocs, patch: PrPatch, now: string, updatedAt: string | undefined, seq: number): void {
  for (const doc of [docs.prInfo, docs.basic]) {
    const pr = pullRequestOf(doc);
    if (!pr) continue;
    if (patch.headSha !== undefined && typeof pr.headRefOid === "string" && pr.headRefOid !== patch.headSha) {
      replaceStrings(pr, pr.headRefOid, patch.headSha);
    }
    if (patch.title !== undefined) pr.title = patch.title;
    if (patch.isDraft !== undefined) pr.isDraft = patch.isDraft;
    if (patch.state !== undefined) setState(pr, patch.state, now);
    if (patch.labels !== undefined) setLabels(pr, patch.labels);
    if (patch.commentBody !== undefined) addComment(pr, patch.commentBody, now, seq);
    if (patch.ci !== undefined) setCi(pr, patch.ci);
    if (updatedAt !== undefined) pr.updatedAt = updatedAt;
  }
  if (patch.commentBody !== undefined && docs.reactions) {
    const comments = (pullRequestOf(docs.reactions)?.comments as Obj | undefined)?.nodes;
    if (Array.isArray(comments)) {
      comments.push({ id: commentId(seq), reactionGroups: REACTION_CONTENTS.map((content) => ({ content, users: { nodes: [] } })) });
    }
  }
}

/** Turns a template's documents into another PR's (new number, ids, title, times, head SHA). */
export function applyIdentity(docs: PrDocs, id: PrIdentity): void {
  for (const doc of [docs.prInfo, docs.basic]) {
    const pr = pullRequestOf(doc);
    if (!pr) continue;
    if (typeof pr.headRefOid === "string") replaceStrings(pr, pr.headRefOid, id.headSha);
    const oldNumber = pr.number;
    pr.number = id.number;
    if ("id" in pr) pr.id = id.nodeId;
    if (typeof pr.url === "string") pr.url = pr.url.replace(new RegExp(`/pull/${String(oldNumber)}$`), `/pull/${id.number}`);
    pr.title = id.title;
    pr.createdAt = id.createdAt;
    pr.updatedAt = id.updatedAt;
    if (typeof pr.closedAt === "string") pr.closedAt = id.updatedAt;
    if (typeof pr.mergedAt === "string") pr.mergedAt = id.updatedAt;
  }
}

/** GitHub's time format: whole seconds, `Z`. */
export function githubTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function setState(pr: Obj, state: "open" | "closed" | "merged", now: string): void {
  pr.state = state === "open" ? "OPEN" : state === "closed" ? "CLOSED" : "MERGED";
  if ("closed" in pr) pr.closed = state !== "open";
  if ("closedAt" in pr) pr.closedAt = state === "open" ? null : now;
  if ("mergedAt" in pr) pr.mergedAt = state === "merged" ? now : null;
  if ("mergedBy" in pr && state !== "merged") pr.mergedBy = null;
  if ("mergedBy" in pr && state === "merged") pr.mergedBy = { login: "sim-user" };
}

function setLabels(pr: Obj, names: string[]): void {
  const labels = pr.labels as Obj | undefined;
  if (!labels || !Array.isArray(labels.nodes)) return;
  const existing = labels.nodes as Obj[];
  const keys = existing[0] ? Object.keys(existing[0]) : ["id", "color", "name"];
  labels.nodes = names.map((name) => {
    const known = existing.find((l) => l.name === name);
    if (known) return known;
    const made: Obj = { id: `LA_sim${Buffer.from(name).toString("base64url")}`, color: "ededed", name };
    return Object.fromEntries(keys.filter((k) => k in made).map((k) => [k, made[k]]));
  });
}

function commentId(seq: number): string {
  return `IC_sim${seq.toString(36).padStart(8, "0")}`;
}

function addComment(pr: Obj, body: string, now: string, seq: number): void {
  const author = { login: "sim-user" };
  const comments = (pr.comments as Obj | undefined)?.nodes;
  if (Array.isArray(comments)) comments.push({ id: commentId(seq), body, createdAt: now, author });
  const timeline = (pr.timelineItems as Obj | undefined)?.nodes;
  if (Array.isArray(timeline)) timeline.push({ __typename: "IssueComment", id: commentId(seq), createdAt: now, body, author });
}

function setCi(pr: Obj, ci: "SUCCESS" | "FAILURE" | "IN_PROGRESS"): void {
  const commits = ((pr.commits as Obj | undefined)?.nodes as Obj[] | undefined) ?? [];
  const head = commits[commits.length - 1]?.commit as Obj | undefined;
  for (const rollup of [pr.statusCheckRollup, head?.statusCheckRollup]) {
    const contexts = (((rollup as Obj | null | undefined)?.contexts as Obj | undefined)?.nodes as Obj[] | undefined) ?? [];
    for (const c of contexts) {
      if (c.__typename !== "CheckRun") continue;
      c.status = ci === "IN_PROGRESS" ? "IN_PROGRESS" : "COMPLETED";
      c.conclusion = ci === "IN_PROGRESS" ? null : ci;
    }
  }
}

/** Replaces every string value equal to `from` (a head SHA appears in several places). */
function replaceStrings(value: unknown, from: string, to: string): void {
  if (!value || typeof value !== "object") return;
  const o = value as Obj;
  for (const k of Object.keys(o)) {
    if (o[k] === from) o[k] = to;
    else replaceStrings(o[k], from, to);
  }
}
