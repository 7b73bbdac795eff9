// Where every file of the data repo lives (DESIGN section 1). Every path built from a PR
// number goes through `prNumber`, so `../x`, `12a`, `-3` or `1e3` can never become a path.
import { InputError } from "./errors.js";

export const LIST_FILES = {
  missing: "missing_prs.txt",
  backfill: "closed_prs_to_backfill.txt",
  redownload: "redownload.txt",
  stubborn: "stubborn_prs.txt",
} as const;
export type ListName = keyof typeof LIST_FILES;

export const CONFIG_FILE = "prstate.yaml";
export const DATA_DIR = "data";
export const STATE_DIR = "state";
export const WATERMARK_FILE = "state/watermark.json";
export const CHECKS_FILE = "state/checks.json";

export const FULL_FILES = ["pr_info.json", "pr_reactions.json", "timestamp.txt"] as const;
export const BASIC_FILES = ["basic_pr_info.json", "timestamp.txt"] as const;

const MAX_PR = 2 ** 31 - 1;

/** Parses a PR number: digits only, no leading zero, positive, at most 2^31-1. */
export function prNumber(value: unknown): number {
  const text = typeof value === "number" ? String(value) : typeof value === "string" ? value.trim() : "";
  if (!/^[1-9][0-9]{0,9}$/.test(text) || Number(text) > MAX_PR) {
    throw new InputError(`not a PR number: ${JSON.stringify(String(value)).slice(0, 40)}`);
  }
  return Number(text);
}

export const fullDir = (n: number) => `${DATA_DIR}/${prNumber(n)}`;
export const basicDir = (n: number) => `${DATA_DIR}/${prNumber(n)}-basic`;
export const tempDir = (n: number, basic = false) => `${DATA_DIR}/${prNumber(n)}${basic ? "-basic" : ""}-temp`;
export const attemptsDir = (n: number) => `${STATE_DIR}/attempts/${prNumber(n)}`;
export const queueDir = (n: number) => `${STATE_DIR}/queue/${prNumber(n)}`;

/** What a repo-relative path is, for choosing its merge strategy and for integrity checks. */
export type PathKind =
  | { kind: "list"; list: ListName | "other" }
  | { kind: "record"; pr: number; basic: boolean; file: string }
  | { kind: "timestamp"; pr: number; basic: boolean }
  | { kind: "watermark" }
  | { kind: "checks" }
  | { kind: "attempt"; pr: number }
  | { kind: "queue"; pr: number }
  | { kind: "other" };

const RECORD_FILES = new Set(["pr_info.json", "pr_reactions.json", "basic_pr_info.json"]);

export function classifyPath(path: string): PathKind {
  const p = path.replace(/\\/g, "/");
  for (const [name, file] of Object.entries(LIST_FILES)) if (p === file) return { kind: "list", list: name as ListName };
  if (/^[^/]*_prs\.txt$/.test(p)) return { kind: "list", list: "other" };
  if (p === WATERMARK_FILE) return { kind: "watermark" };
  if (p === CHECKS_FILE) return { kind: "checks" };
  let m = /^data\/([1-9][0-9]*)(-basic)?\/([^/]+)$/.exec(p);
  if (m) {
    const pr = Number(m[1]);
    const basic = m[2] !== undefined;
    if (m[3] === "timestamp.txt") return { kind: "timestamp", pr, basic };
    if (RECORD_FILES.has(m[3]!)) return { kind: "record", pr, basic, file: m[3]! };
    return { kind: "other" };
  }
  m = /^state\/(attempts|queue)\/([1-9][0-9]*)\/[^/]+$/.exec(p);
  if (m) return { kind: m[1] === "attempts" ? "attempt" : "queue", pr: Number(m[2]) };
  return { kind: "other" };
}
