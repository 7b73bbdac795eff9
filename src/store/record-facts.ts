// What one record folder says about its PR (RecordFacts), from the folder's file names and
// texts. Pure: the store reads the bytes, this decides whether they form a valid record and
// pulls out the key fields the state machine, integrity and paranoid checks compare.
import { isRecordDoc, recordFetchedAt, recordUpdatedAt } from "../merge/record-meta.js";
import { BASIC_FILES, FULL_FILES } from "../layout.js";
import type { RecordFacts } from "../state/pr-facts.js";
import { isPlainObject } from "./json-file.js";
import { parseTimestamp, TIMESTAMP_FILE } from "./timestamp-file.js";

export const MAIN_FILE = { full: "pr_info.json", basic: "basic_pr_info.json" } as const;

/** The main file of a full or basic record. */
export function mainFile(basic: boolean): string {
  return basic ? MAIN_FILE.basic : MAIN_FILE.full;
}

/** The file names a record folder may hold. */
export function allowedFiles(basic: boolean): readonly string[] {
  return basic ? BASIC_FILES : FULL_FILES;
}

export interface FolderEntry {
  name: string;
  isFile: boolean;
}

export interface RecordContents {
  /** Every entry of the folder. */
  entries: FolderEntry[];
  /** Text of the allowed files that exist (keyed by file name). */
  texts: Map<string, string>;
}

export interface ParsedRecord {
  facts: RecordFacts;
  /** Parsed JSON files by name (only those that parse); empty unless `keepDocs`. */
  docs: Record<string, unknown>;
  /** timestamp.txt, normalised, when present and valid. */
  timestamp?: string;
}

/** Facts of one record folder of PR `pr`. `keepDocs: false` drops the parsed JSON (scans). */
export function parseRecord(pr: number, basic: boolean, contents: RecordContents, opts: { keepDocs: boolean }): ParsedRecord {
  const allowed = allowedFiles(basic);
  const main = mainFile(basic);
  const problems: string[] = [];
  const docs: Record<string, unknown> = {};

  for (const entry of contents.entries) {
    if (!entry.isFile) problems.push(`unexpected folder ${entry.name}/`);
    else if (!allowed.includes(entry.name)) problems.push(`unexpected file ${entry.name}`);
  }

  let mainDoc: unknown;
  for (const name of allowed) {
    const text = contents.texts.get(name);
    if (text === undefined || name === TIMESTAMP_FILE) continue;
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      problems.push(`${name} does not parse`);
      continue;
    }
    const why = docProblem(doc);
    if (why) problems.push(`${name}: ${why}`);
    if (name === main) mainDoc = doc;
    if (opts.keepDocs) docs[name] = doc;
  }
  if (!contents.texts.has(main)) problems.push(`${main} is missing`);

  let timestamp: string | undefined;
  const stampText = contents.texts.get(TIMESTAMP_FILE);
  if (stampText !== undefined) {
    timestamp = parseTimestamp(stampText);
    if (timestamp === undefined) problems.push(`${TIMESTAMP_FILE} is not an ISO-8601 time`);
  }

  const facts: RecordFacts = { basic, valid: false, problems };
  if (mainDoc !== undefined && isRecordDoc(mainDoc)) {
    const pull = pullRequestOf(mainDoc)!;
    if (typeof pull.number === "number" && pull.number !== pr) problems.push(`${main} is the record of PR ${pull.number}`);
    Object.assign(facts, keyFields(pull));
    const updatedAt = recordUpdatedAt(mainDoc);
    if (updatedAt !== undefined) facts.updatedAt = updatedAt;
    const fetchedAt = recordFetchedAt(mainDoc) ?? timestamp;
    if (fetchedAt !== undefined) facts.fetchedAt = fetchedAt;
  } else if (timestamp !== undefined) {
    facts.fetchedAt = timestamp;
  }
  facts.valid = problems.length === 0;
  const out: ParsedRecord = { facts, docs };
  if (timestamp !== undefined) out.timestamp = timestamp;
  return out;
}

/** Why a parsed record file is not usable, or undefined when it is. */
function docProblem(doc: unknown): string | undefined {
  if (isPlainObject(doc) && doc.errors !== undefined) {
    const errors = Array.isArray(doc.errors) ? doc.errors : [doc.errors];
    const first = errors[0];
    const message = isPlainObject(first) && typeof first.message === "string" ? first.message : "no message";
    return `GraphQL errors (${errors.length}): ${message.slice(0, 120)}`;
  }
  if (!isRecordDoc(doc)) return "not a pull request response (no data.repository.pullRequest)";
  return undefined;
}

function pullRequestOf(doc: unknown): Record<string, unknown> | undefined {
  if (!isPlainObject(doc) || !isPlainObject(doc.data)) return undefined;
  const repo = doc.data.repository;
  if (!isPlainObject(repo)) return undefined;
  return isPlainObject(repo.pullRequest) ? repo.pullRequest : undefined;
}

const STATES = new Set(["OPEN", "CLOSED", "MERGED"]);

/** The key fields of a `pullRequest` object; a field the query did not fetch stays undefined. */
export function keyFields(pull: Record<string, unknown>): Partial<RecordFacts> {
  const out: Partial<RecordFacts> = {};
  if (typeof pull.state === "string" && STATES.has(pull.state)) out.state = pull.state as RecordFacts["state"];
  if (typeof pull.headRefOid === "string") out.headRefOid = pull.headRefOid;
  if (typeof pull.isDraft === "boolean") out.isDraft = pull.isDraft;
  if (typeof pull.title === "string") out.title = pull.title;
  if (typeof pull.baseRefName === "string") out.baseRefName = pull.baseRefName;
  if (pull.reviewDecision === null || typeof pull.reviewDecision === "string") out.reviewDecision = pull.reviewDecision;
  const labels = nodesOf(pull.labels);
  if (labels) out.labels = labels.map((l) => (isPlainObject(l) && typeof l.name === "string" ? l.name : "")).filter((n) => n !== "");
  out.ci = ciSummary(pull);
  return out;
}

function nodesOf(connection: unknown): unknown[] | undefined {
  return isPlainObject(connection) && Array.isArray(connection.nodes) ? connection.nodes : undefined;
}

const FAILED = new Set(["FAILURE", "ERROR", "CANCELLED", "TIMED_OUT", "ACTION_REQUIRED", "STARTUP_FAILURE"]);
const RUNNING = new Set(["IN_PROGRESS", "QUEUED", "PENDING", "WAITING", "REQUESTED", "EXPECTED"]);

/**
 * CI conclusion of the PR's head commit. The head commit's rollup is taken from the commit
 * list (the node whose oid is `headRefOid`, or the last node when the query has no
 * `headRefOid`), else from the PR's own `statusCheckRollup` (basic queries, old commit shapes
 * without `commit`, or more commits than the query's page). Any failed context wins over a
 * running one, a running one over success; no contexts at all is NONE.
 */
export function ciSummary(pull: Record<string, unknown>): NonNullable<RecordFacts["ci"]> {
  const rollup = headCommitRollup(pull) ?? pull.statusCheckRollup;
  const contexts = isPlainObject(rollup) ? nodesOf(rollup.contexts) : undefined;
  if (!contexts || contexts.length === 0) return "NONE";
  let pending = false;
  for (const ctx of contexts) {
    if (!isPlainObject(ctx)) continue;
    // CheckRun: conclusion (null until it completes) + status; StatusContext: state.
    const verdict = "state" in ctx ? ctx.state : ctx.conclusion;
    if (typeof verdict === "string" && FAILED.has(verdict)) return "FAILURE";
    if (verdict === null || verdict === undefined || (typeof verdict === "string" && RUNNING.has(verdict))) pending = true;
    else if (typeof ctx.status === "string" && ctx.status !== "COMPLETED") pending = true;
  }
  return pending ? "PENDING" : "SUCCESS";
}

function headCommitRollup(pull: Record<string, unknown>): unknown {
  const commits = nodesOf(pull.commits);
  if (!commits || commits.length === 0) return undefined;
  const head =
    typeof pull.headRefOid === "string"
      ? commits.find((c) => isPlainObject(c) && isPlainObject(c.commit) && c.commit.oid === pull.headRefOid)
      : commits[commits.length - 1];
  if (!isPlainObject(head) || !isPlainObject(head.commit)) return undefined;
  return head.commit.statusCheckRollup ?? undefined;
}
