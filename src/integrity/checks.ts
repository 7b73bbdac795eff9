// The integrity checks of DESIGN section 8, as pure functions over what the store scanned
// (PrFacts), GitHub's open PRs and the parsed list files. Findings say what is wrong and
// carry what the fix needs (the list to add to or clean, the paths to remove); fix-plan.ts
// turns them into state-machine moves.
//
// Cost: every check looks only at the PRs in `facts`, the summaries in `open` and the list
// lines, never at the rest of data/. That is what keeps the per-cycle check proportional to
// what changed plus the open PRs: the caller passes (scope "cycle") the facts of the PRs that
// changed since the last check plus those GitHub lists as open, or (scope "full") all facts.
// The checks are the same in both scopes; they never conclude anything from a PR's absence
// in `facts` except for PRs GitHub lists as open, which both scopes include.
//
// A finding is only reported when its fix would change something: an outdated record that is
// already listed for re-download or queued is not reported again, so a repo that is being
// worked on correctly checks clean.
import type { Config } from "../config/config.js";
import type { PullSummary } from "../github/github.js";
import { basicDir, fullDir, LIST_FILES, tempDir, type ListName } from "../layout.js";
import { dedupeList, type ListFile } from "../lists/list-file.js";
import type { PrFacts, RecordFacts } from "../state/pr-facts.js";
import { attemptThreshold, newerRecord, validRecord, wantsRedownload } from "../state/pr-state.js";

export type FindingKind =
  | "broken-record"
  | "temp-leftover"
  | "both-full-and-basic"
  | "unexpected-entry"
  | "open-without-record"
  | "closed-but-open-in-record"
  | "older-than-github"
  | "force-pushed"
  | "ci-stale"
  | "ci-missing"
  | "satisfied-list-entry"
  | "duplicate-list-entries"
  | "stale-stubborn"
  | "paranoid-mismatch"
  /** A list line that is neither a PR number, a `--` comment nor blank: a person decides. */
  | "invalid-list-line"
  /** state/watermark.json or state/checks.json does not parse: the fix removes it. */
  | "broken-state-file";

/** The kinds whose fix is "list the PR for re-download". */
export const OUTDATED_KINDS: ReadonlySet<FindingKind> = new Set([
  "closed-but-open-in-record",
  "older-than-github",
  "force-pushed",
  "ci-stale",
  "ci-missing",
  "paranoid-mismatch",
]);

export interface Finding {
  kind: FindingKind;
  pr?: number;
  detail: string;
  /**
   * The list the fix works on: where a PR that loses its record is listed ("missing" or
   * "backfill": broken-record, temp-leftover, open-without-record), the list holding a stale
   * or duplicated entry (satisfied-list-entry, duplicate-list-entries), "stubborn" for
   * stale-stubborn.
   */
  list?: ListName;
  /** Repo paths the fix removes. */
  paths?: string[];
  /** paranoid-mismatch: the key fields that differ. */
  fields?: string[];
}

export interface CheckInput {
  facts: Map<number, PrFacts>;
  /** GitHub's open PRs (the complete listing); without it the checks against GitHub are skipped. */
  open?: readonly PullSummary[];
  /** Paths the store scan could not place (strays in data/ or state/). */
  unexpected: readonly string[];
  now: Date;
  cfg: Config;
  scope: "cycle" | "full";
  /** Parsed list files, for the duplicate checks (lists not given are not checked). */
  lists?: Partial<Record<ListName, ListFile>>;
}

const MINUTE = 60_000;

function ms(iso: string | undefined): number | undefined {
  if (iso === undefined) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}

// `parseRecord` (src/store/record-facts.ts) words stray entries of a record folder this way.
const STRAY = /^unexpected (?:file|folder) (.+?)\/?$/;

/**
 * What to remove for a broken record: only the stray entries when they are all that is
 * wrong (the record itself is fine), else the whole folder.
 */
function brokenParts(dir: string, rec: RecordFacts): { paths: string[]; wholeRecord: boolean } {
  const strays = rec.problems.map((p) => STRAY.exec(p)?.[1]);
  if (strays.length > 0 && strays.every((s) => s !== undefined && !s.includes("/") && s !== ".." && s !== ".")) {
    return { paths: strays.map((s) => `${dir}/${s}`), wholeRecord: false };
  }
  return { paths: [dir], wholeRecord: true };
}

/** Where a PR that loses its data is listed: open PRs in missing_prs.txt, closed ones for backfill. */
function listWithoutRecord(f: PrFacts, open: Map<number, PullSummary> | undefined): "missing" | "backfill" {
  if (open) return open.get(f.pr)?.state === "open" ? "missing" : "backfill";
  const state = validRecord(f)?.state ?? f.full?.state ?? f.basic?.state;
  return state === "CLOSED" || state === "MERGED" ? "backfill" : "missing";
}

/** The listing is older than the record (it was fetched before the record's update): no verdict. */
function listingBehind(rec: RecordFacts, s: PullSummary): boolean {
  const r = ms(rec.updatedAt);
  const g = ms(s.updatedAt);
  return r !== undefined && g !== undefined && r > g;
}

/** The record predates GitHub's latest update (by updatedAt, else by fetch time). */
function recordBehind(rec: RecordFacts, s: PullSummary): boolean {
  const g = ms(s.updatedAt);
  if (g === undefined) return false;
  const r = ms(rec.updatedAt) ?? ms(rec.fetchedAt);
  return r === undefined || r < g;
}

function checkRecords(f: PrFacts, open: Map<number, PullSummary> | undefined, out: Finding[]): void {
  const list = listWithoutRecord(f, open);
  for (const [rec, dir] of [
    [f.full, fullDir(f.pr)],
    [f.basic, basicDir(f.pr)],
  ] as const) {
    if (!rec || rec.valid) continue;
    const { paths } = brokenParts(dir, rec);
    out.push({ kind: "broken-record", pr: f.pr, detail: `${dir}: ${rec.problems.join("; ") || "not a valid record"}`, list, paths });
  }
  if (f.temp) {
    out.push({ kind: "temp-leftover", pr: f.pr, detail: `leftover ${tempDir(f.pr)} or ${tempDir(f.pr, true)} of an interrupted download`, list, paths: [tempDir(f.pr), tempDir(f.pr, true)] });
  }
  if (f.full?.valid && f.basic?.valid) {
    const keepFull = newerRecord(f.full, f.basic) === f.full;
    const drop = keepFull ? basicDir(f.pr) : fullDir(f.pr);
    out.push({ kind: "both-full-and-basic", pr: f.pr, detail: `both ${fullDir(f.pr)} and ${basicDir(f.pr)}; the older, ${drop}, goes`, paths: [drop] });
  }
}

function checkFreshness(f: PrFacts, input: CheckInput, open: Map<number, PullSummary> | undefined, out: Finding[]): void {
  const rec = validRecord(f);
  if (!rec || wantsRedownload(f)) return;
  const now = input.now.getTime();
  const delay = input.cfg.thresholds.allowedDelayMinutes * MINUTE;
  const s = open?.get(f.pr);
  // Not in the (complete) open listing, or a summary that says closed and is not older than the record.
  if (open && rec.state === "OPEN" && (!s || (s.state === "closed" && !listingBehind(rec, s)))) {
    out.push({ kind: "closed-but-open-in-record", pr: f.pr, detail: `the record says OPEN, GitHub says ${s?.merged ? "merged" : "closed"}` });
  }
  if (s && !listingBehind(rec, s)) {
    // Lag is measured from GitHub's update: a record 5 minutes behind is reported once that
    // update is older than the allowed delay (comparing the two updatedAt values instead would
    // never report a PR updated twice within the delay).
    const updated = ms(s.updatedAt);
    if (recordBehind(rec, s) && updated !== undefined && now - updated > delay) {
      out.push({ kind: "older-than-github", pr: f.pr, detail: `record updatedAt ${rec.updatedAt ?? "unknown"}, GitHub ${s.updatedAt}` });
    }
    if (rec.headRefOid !== undefined && s.headSha !== "" && rec.headRefOid.toLowerCase() !== s.headSha.toLowerCase()) {
      out.push({ kind: "force-pushed", pr: f.pr, detail: `head ${rec.headRefOid.slice(0, 12)} in the record, ${s.headSha.slice(0, 12)} on GitHub` });
    }
  }
  if (rec.state !== "OPEN") return;
  const fetched = ms(rec.fetchedAt);
  // No fetch time (records from older tooling): as old as can be.
  const age = fetched === undefined ? Number.POSITIVE_INFINITY : now - fetched;
  if (rec.ci === "PENDING" && age > input.cfg.thresholds.ciStaleMinutes * MINUTE) {
    out.push({ kind: "ci-stale", pr: f.pr, detail: `CI recorded as running, record fetched ${rec.fetchedAt ?? "at an unknown time"}` });
  }
  // NONE right after a push is normal (CI has not registered yet): only a record fetched within
  // the delay after the PR's last update is suspect, and only once the delay has passed. A
  // record fetched long after the update that still shows no CI is believed (a PR without
  // CI), so this check cannot re-queue the same PR forever.
  const updated = ms(rec.updatedAt);
  const fetchedSoonAfterUpdate = fetched === undefined || updated === undefined || fetched - updated < delay;
  if (rec.ci === "NONE" && age > delay && fetchedSoonAfterUpdate) {
    out.push({ kind: "ci-missing", pr: f.pr, detail: `no CI in the record, fetched ${rec.fetchedAt ?? "at an unknown time"} soon after the update ${rec.updatedAt ?? ""}`.trim() });
  }
}

function checkListing(f: PrFacts, input: CheckInput, open: Map<number, PullSummary> | undefined, out: Finding[]): void {
  const rec = validRecord(f);
  for (const list of ["missing", "backfill"] as const) {
    if (rec && f.lists.has(list)) out.push({ kind: "satisfied-list-entry", pr: f.pr, list, detail: `listed in ${LIST_FILES[list]} but has a valid record` });
  }
  const s = open?.get(f.pr);
  // Only a record strictly newer than GitHub's listing proves the entry moot: an equal
  // updatedAt may still hide a CI change or a force-push that asked for the re-download.
  if (rec && s && f.lists.has("redownload") && f.queued.length === 0 && f.attempts.length === 0 && listingBehind(rec, s)) {
    out.push({ kind: "satisfied-list-entry", pr: f.pr, list: "redownload", detail: `listed in ${LIST_FILES.redownload}, record updatedAt ${rec.updatedAt} is newer than GitHub's ${s.updatedAt}` });
  }
  const threshold = attemptThreshold(f, input.cfg);
  if (!f.lists.has("stubborn") && f.attempts.length >= threshold) {
    out.push({ kind: "stale-stubborn", pr: f.pr, list: "stubborn", detail: `${f.attempts.length} failed attempts (threshold ${threshold}) but not in ${LIST_FILES.stubborn}` });
  }
}

function checkOpenPrs(input: CheckInput, out: Finding[]): void {
  for (const s of input.open ?? []) {
    if (s.state !== "open") continue;
    const f = input.facts.get(s.number);
    // A record, or broken remains that broken-record / temp-leftover already list.
    if (f && (f.full !== undefined || f.basic !== undefined || f.temp)) continue;
    const demand = f && (f.lists.has("missing") || f.lists.has("redownload") || f.lists.has("stubborn") || f.queued.length > 0 || f.attempts.length > 0);
    if (demand) continue;
    const detail = f?.lists.has("backfill") ? `open on GitHub, no record, listed only in ${LIST_FILES.backfill}` : "open on GitHub, no record";
    out.push({ kind: "open-without-record", pr: s.number, list: "missing", detail });
  }
}

function checkLists(lists: Partial<Record<ListName, ListFile>>, out: Finding[]): void {
  for (const name of Object.keys(LIST_FILES) as ListName[]) {
    const list = lists[name];
    if (!list) continue;
    const count = new Map<number, number>();
    for (const line of list.lines) if (line.type === "entry") count.set(line.pr, (count.get(line.pr) ?? 0) + 1);
    let duplicates = 0;
    for (const [pr, n] of count) {
      if (n < 2) continue;
      duplicates += n - 1;
      out.push({ kind: "duplicate-list-entries", pr, list: name, detail: `${pr} appears ${n} times in ${LIST_FILES[name]}` });
    }
    const blanks = list.lines.length - dedupeList(list).lines.length - duplicates;
    if (blanks > 0) out.push({ kind: "duplicate-list-entries", list: name, detail: `${blanks} redundant blank lines in ${LIST_FILES[name]}` });
  }
}

const DATA_PR = /^data\/([1-9][0-9]{0,9})(?=[-/.]|$)/;

export function runChecks(input: CheckInput): Finding[] {
  const out: Finding[] = [];
  const open = input.open ? new Map(input.open.map((s) => [s.number, s])) : undefined;
  for (const f of [...input.facts.values()].sort((a, b) => a.pr - b.pr)) {
    checkRecords(f, open, out);
    checkFreshness(f, input, open, out);
    checkListing(f, input, open, out);
  }
  checkOpenPrs(input, out);
  if (input.lists) checkLists(input.lists, out);
  for (const path of input.unexpected) {
    const m = DATA_PR.exec(path);
    const finding: Finding = { kind: "unexpected-entry", detail: `unexpected ${path}`, paths: [path] };
    if (m) finding.pr = Number(m[1]);
    out.push(finding);
  }
  // Stable: PRs in number order, then the findings that name no PR.
  return out.map((f, i) => ({ f, i })).sort((a, b) => (a.f.pr ?? Infinity) - (b.f.pr ?? Infinity) || a.i - b.i).map((x) => x.f);
}

/** A PR summary with the key fields a GraphQL listing can add (review decision, CI conclusion). */
export type PullKeyFields = PullSummary & {
  reviewDecision?: string | null;
  ci?: "SUCCESS" | "FAILURE" | "PENDING" | "NONE";
};

function sameLabels(a: readonly string[], b: readonly string[]): boolean {
  const x = [...new Set(a)].sort();
  const y = [...new Set(b)].sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** The key fields in which a record and GitHub's summary disagree (fields either side lacks are skipped). */
export function differingFields(rec: RecordFacts, s: PullKeyFields): string[] {
  const out: string[] = [];
  if (rec.title !== undefined && rec.title !== s.title) out.push("title");
  if (rec.state !== undefined && (rec.state === "OPEN") !== (s.state === "open")) out.push("state");
  if (rec.isDraft !== undefined && rec.isDraft !== s.draft) out.push("draft");
  if (rec.labels !== undefined && !sameLabels(rec.labels, s.labels)) out.push("labels");
  if (rec.headRefOid !== undefined && s.headSha !== "" && rec.headRefOid.toLowerCase() !== s.headSha.toLowerCase()) out.push("headSha");
  if (rec.baseRefName !== undefined && s.baseRef !== "" && rec.baseRefName !== s.baseRef) out.push("baseRef");
  if (s.reviewDecision !== undefined && rec.reviewDecision !== undefined && (rec.reviewDecision ?? null) !== (s.reviewDecision ?? null)) out.push("reviewDecision");
  if (s.ci !== undefined && rec.ci !== undefined && rec.ci !== s.ci) out.push("ci");
  return out;
}

/**
 * The daily paranoid check: every open PR's key fields against its record. PRs without a
 * valid record are runChecks' business; PRs already listed for re-download or queued, and
 * records newer than the summary, are skipped (nothing to queue, or no verdict possible).
 */
export function paranoidFindings(facts: Map<number, PrFacts>, open: readonly PullKeyFields[]): Finding[] {
  const out: Finding[] = [];
  for (const s of [...open].sort((a, b) => a.number - b.number)) {
    const f = facts.get(s.number);
    const rec = f && validRecord(f);
    if (!f || !rec || wantsRedownload(f) || listingBehind(rec, s)) continue;
    const fields = differingFields(rec, s);
    if (fields.length > 0) out.push({ kind: "paranoid-mismatch", pr: s.number, detail: `differs from GitHub in ${fields.join(", ")}`, fields });
  }
  return out;
}
