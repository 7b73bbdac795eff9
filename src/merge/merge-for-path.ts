// One entry point for merging any path of the data repo, used by both the git merge driver
// (merge-driver/main.ts) and prstate's in-process merge, so the two can never disagree.
// The strategy comes from the path alone (classifyPath). Pure: bytes in, bytes out.
import { classifyPath } from "../layout.js";
import { chooseRecord, isRecordText, type Choice } from "./record-choice.js";
import { mergeLists } from "./set-merge.js";
import { chooseTimestamp, chooseWatermark, isChecksText, mergeChecks, timestampInstant, watermarkInstant } from "./time-choice.js";

/** content null = the path is deleted in the result. */
export type MergeOutcome = { ok: true; content: Buffer | null } | { ok: false; reason: string };

export type MergeStrategy = "list" | "record" | "time";

/** The single merge driver every pattern routes to; it dispatches on the path (%P) itself. */
export const DRIVER_NAME = "prstate";

/**
 * The .gitattributes table `prstate install` writes (pattern -> driver) and checks (`sample`
 * must resolve to the driver). `strategy` is what mergeForPath does for paths of that shape;
 * a test checks both against real git. List patterns are anchored to the root, like
 * classifyPath: a `*_prs.txt` in a subfolder is not a list and keeps git's own merge.
 * closed_prs_to_backfill.txt needs its own row: it does not end in `_prs.txt`.
 */
export const DRIVER_STRATEGIES: readonly { pattern: string; strategy: MergeStrategy; sample: string }[] = [
  { pattern: "/*_prs.txt", strategy: "list", sample: "missing_prs.txt" },
  { pattern: "/redownload.txt", strategy: "list", sample: "redownload.txt" },
  { pattern: "/closed_prs_to_backfill.txt", strategy: "list", sample: "closed_prs_to_backfill.txt" },
  { pattern: "data/**/pr_info.json", strategy: "record", sample: "data/1/pr_info.json" },
  { pattern: "data/**/basic_pr_info.json", strategy: "record", sample: "data/1-basic/basic_pr_info.json" },
  { pattern: "data/**/pr_reactions.json", strategy: "record", sample: "data/1/pr_reactions.json" },
  { pattern: "data/**/timestamp.txt", strategy: "time", sample: "data/1/timestamp.txt" },
  { pattern: "state/watermark.json", strategy: "time", sample: "state/watermark.json" },
  { pattern: "state/checks.json", strategy: "time", sample: "state/checks.json" },
];

/** The strategy mergeForPath applies to `path`, or null when only trivial merges are allowed. */
export function strategyForPath(path: string): MergeStrategy | null {
  switch (classifyPath(path).kind) {
    case "list":
      return "list";
    case "record":
      return "record";
    case "timestamp":
    case "watermark":
    case "checks":
      return "time";
    default:
      return null;
  }
}

const same = (x: Buffer | null, y: Buffer | null) => (x === null || y === null ? x === y : x.equals(y));

/**
 * Merges one path given its base and both sides (null = absent on that side: add/add has no
 * base, modify/delete has one side null). Trivial cases follow git: a side that did not
 * change yields the other side, including its deletion.
 */
export function mergeForPath(path: string, base: Buffer | null, ours: Buffer | null, theirs: Buffer | null): MergeOutcome {
  if (same(ours, theirs) || same(theirs, base)) return { ok: true, content: ours };
  if (same(ours, base)) return { ok: true, content: theirs };

  const kind = classifyPath(path).kind;
  switch (kind) {
    case "list":
      return mergeListPath(base, ours, theirs);
    case "record":
      return choosePath(path, ours, theirs, chooseRecord, isRecordText);
    case "timestamp":
      return choosePath(path, ours, theirs, chooseTimestamp, (text) => timestampInstant(text) !== undefined);
    case "watermark":
      return choosePath(path, ours, theirs, chooseWatermark, (text) => watermarkInstant(text) !== undefined);
    case "checks": {
      if (ours === null || theirs === null) return keepValid(ours ?? theirs!, isChecksText);
      const merged = mergeChecks(base && base.toString("utf8"), ours.toString("utf8"), theirs.toString("utf8"));
      if ("error" in merged) return { ok: false, reason: `${path}: ${merged.error}` };
      return { ok: true, content: Buffer.from(merged.content, "utf8") };
    }
    default:
      return { ok: false, reason: `${path}: both sides changed it and prstate has no merge rule for this path` };
  }
}

function mergeListPath(base: Buffer | null, ours: Buffer | null, theirs: Buffer | null): MergeOutcome {
  // Deleting a list loses to changing it: the changed list still names PRs that need work.
  if (ours === null || theirs === null) return { ok: true, content: ours ?? theirs };
  // Lists are ASCII in practice; any other bytes (a comment in Latin-1, say) must survive
  // untouched, so text that is not valid UTF-8 is handled byte per character.
  const parts = [base ?? Buffer.alloc(0), ours, theirs];
  const encoding: BufferEncoding = parts.every((p) => Buffer.from(p.toString("utf8"), "utf8").equals(p)) ? "utf8" : "latin1";
  const [o, a, b] = parts.map((p) => p.toString(encoding)) as [string, string, string];
  return { ok: true, content: Buffer.from(mergeLists(o, a, b), encoding) };
}

/** A deletion against a change: a valid file wins over the deletion, the deletion over a broken file. */
function keepValid(present: Buffer, valid: (text: string) => boolean): MergeOutcome {
  return { ok: true, content: valid(present.toString("utf8")) ? present : null };
}

function choosePath(
  path: string,
  ours: Buffer | null,
  theirs: Buffer | null,
  choose: (a: string, b: string) => Choice,
  valid: (text: string) => boolean,
): MergeOutcome {
  if (ours === null || theirs === null) return keepValid(ours ?? theirs!, valid);
  const choice = choose(ours.toString("utf8"), theirs.toString("utf8"));
  if ("error" in choice) return { ok: false, reason: `${path}: ${choice.error}` };
  return { ok: true, content: choice.winner === "ours" ? ours : theirs };
}
