// The rules the in-process merge applies to whole record folders (`data/N`, `data/N-basic`),
// where git's per-file view is not enough: a modify/delete of a folder, a PR that ends up
// with both a full and a basic record, attempt files that a fresher record made obsolete,
// and the "files of one record agree" check before a merge is committed (DESIGN section 4).
// Pure: file names and bytes in, verdicts out.
import { BASIC_FILES, FULL_FILES } from "../layout.js";
import { compareInstants, parseInstant } from "../merge/instant.js";
import { isRecordDoc, recordFetchedAt, recordUpdatedAt } from "../merge/record-meta.js";

export interface RecordFolderInfo {
  pr: number;
  basic: boolean;
  /** No problems: every file belongs to this kind of folder and parses, the main file exists. */
  valid: boolean;
  /** What is wrong, each naming the file. */
  problems: string[];
  /** `updatedAt` of the main file (ms since epoch). */
  updatedAt?: number;
  /** Fetch time: the main file's own stamp, else timestamp.txt (ms since epoch). */
  fetchedAt?: number;
}

/** `data/N` or `data/N-basic` for a file path inside a record folder; undefined otherwise. */
export function recordFolderOf(path: string): { dir: string; pr: number; basic: boolean } | undefined {
  const m = /^data\/([1-9][0-9]{0,9})(-basic)?\/[^/]+$/.exec(path);
  if (!m) return undefined;
  return { dir: `data/${m[1]}${m[2] ?? ""}`, pr: Number(m[1]), basic: m[2] !== undefined };
}

const JSON_FILES = new Set(["pr_info.json", "pr_reactions.json", "basic_pr_info.json"]);

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch {
    return undefined;
  }
}

function prNumberIn(doc: unknown): unknown {
  const pr = (doc as { data?: { repository?: { pullRequest?: { number?: unknown } } } } | undefined)?.data?.repository?.pullRequest;
  return pr && typeof pr === "object" ? pr.number : undefined;
}

/** Inspects the files of one record folder (name -> bytes). An empty map is "no record". */
export function inspectRecordFolder(pr: number, basic: boolean, files: ReadonlyMap<string, Buffer>): RecordFolderInfo {
  const dir = `data/${pr}${basic ? "-basic" : ""}`;
  const allowed: readonly string[] = basic ? BASIC_FILES : FULL_FILES;
  const main = basic ? "basic_pr_info.json" : "pr_info.json";
  const problems: string[] = [];
  let updatedAt: number | undefined;
  let stamp: number | undefined;
  let timestamp: number | undefined;
  if (!files.has(main)) problems.push(`${dir}/${main}: missing`);
  for (const [name, bytes] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const path = `${dir}/${name}`;
    if (!allowed.includes(name)) {
      problems.push(JSON_FILES.has(name) ? `${path}: belongs in a ${basic ? "full" : "basic"} record, not this one` : `${path}: unexpected file in a record folder`);
      continue;
    }
    if (name === "timestamp.txt") {
      timestamp = parseInstant(bytes.toString("utf8").trim());
      if (timestamp === undefined) problems.push(`${path}: not an ISO-8601 time`);
      continue;
    }
    const doc = parseJson(bytes);
    if (doc === undefined) {
      problems.push(`${path}: does not parse as JSON`);
      continue;
    }
    if (!isRecordDoc(doc)) {
      problems.push(`${path}: not a pull-request response (no data.repository.pullRequest, or errors)`);
      continue;
    }
    const number = prNumberIn(doc);
    if (number !== undefined && number !== pr) problems.push(`${path}: holds PR #${String(number)}, not #${pr}`);
    if (name === main) {
      updatedAt = parseInstant(recordUpdatedAt(doc));
      stamp = parseInstant(recordFetchedAt(doc));
    }
  }
  const info: RecordFolderInfo = { pr, basic, valid: problems.length === 0, problems };
  if (updatedAt !== undefined) info.updatedAt = updatedAt;
  const fetchedAt = stamp ?? timestamp;
  if (fetchedAt !== undefined) info.fetchedAt = fetchedAt;
  return info;
}

/**
 * Which record a PR keeps when the merge left it with both `data/N` and `data/N-basic`: a
 * valid record beats a broken one, then the newer PR `updatedAt`, then the newer fetch time;
 * a full record beats a basic one of the same age. Symmetric in the merge direction.
 */
export function pickRecordKind(full: RecordFolderInfo, basic: RecordFolderInfo): "full" | "basic" {
  if (full.valid !== basic.valid) return full.valid ? "full" : "basic";
  const order = compareInstants(full.updatedAt, basic.updatedAt) || compareInstants(full.fetchedAt, basic.fetchedAt);
  return order >= 0 ? "full" : "basic";
}

// `2024-12-16T11-03-37.123Z-<writer>.json` (attempts-store's file names: colons replaced).
const NAME_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2})-(\d{2})-(\d{2}(?:\.\d+)?Z)-/;

/** When a failed attempt happened: the file's `at`, else the time in its name; undefined if neither. */
export function attemptTime(name: string, content: Buffer | null): number | undefined {
  const doc = content ? parseJson(content) : undefined;
  const at = doc && typeof doc === "object" ? parseInstant((doc as { at?: unknown }).at) : undefined;
  if (at !== undefined) return at;
  const m = NAME_TIME.exec(name);
  return m ? parseInstant(`${m[1]}:${m[2]}:${m[3]}`) : undefined;
}

const MARKER_LINES = [/^<{7}( |\r?$)/m, /^={7}\r?$/m, /^>{7}( |\r?$)/m];

/** Whether text holds git's conflict markers (all three kinds), i.e. an unresolved text merge. */
export function hasConflictMarkers(text: string): boolean {
  return MARKER_LINES.every((re) => re.test(text));
}
