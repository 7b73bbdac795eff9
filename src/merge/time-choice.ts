// Merges of the files that hold points in time (DESIGN section 4: newest time wins):
// data/<N>/timestamp.txt (one ISO line), state/watermark.json ({"updatedAt": ISO, ...}) and
// state/checks.json (job -> ISO time of its last run, merged per job). A side whose time
// does not parse loses to one whose time does; ties fall to a fixed content rule so the
// result never depends on the merge direction.
import { compareInstants, compareText, parseInstant } from "./instant.js";
import type { Choice } from "./record-choice.js";

function choose(ours: string, theirs: string, timeOf: (text: string) => number | undefined, what: string): Choice {
  const a = timeOf(ours);
  const b = timeOf(theirs);
  if (a === undefined && b === undefined) return { error: `neither side holds a valid ${what}` };
  const order = compareInstants(a, b) || compareText(ours, theirs);
  return { winner: order >= 0 ? "ours" : "theirs" };
}

/** The instant of a timestamp.txt: its whole content (trimmed) must be one ISO date-time. */
export function timestampInstant(text: string): number | undefined {
  return parseInstant(text.trim());
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const doc: unknown = JSON.parse(text);
    return typeof doc === "object" && doc !== null && !Array.isArray(doc) ? (doc as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function watermarkInstant(text: string): number | undefined {
  return parseInstant(parseObject(text)?.updatedAt);
}

/** timestamp.txt: the newer ISO line wins. */
export function chooseTimestamp(ours: string, theirs: string): Choice {
  return choose(ours, theirs, timestampInstant, "ISO-8601 timestamp");
}

/** state/watermark.json: the file with the newer `updatedAt` wins whole. */
export function chooseWatermark(ours: string, theirs: string): Choice {
  return choose(ours, theirs, watermarkInstant, "watermark (an object with an ISO-8601 updatedAt)");
}

/** Whether `text` is a usable state/checks.json (a JSON object). */
export function isChecksText(text: string): boolean {
  return parseObject(text) !== undefined;
}

export type TextMerge = { content: string } | { error: string };

const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);

/** Per-key 3-way rule: one side's change wins over no change; two changes -> the newer time. */
function mergeKey(o: unknown, a: unknown, b: unknown): unknown {
  if (same(a, b)) return a;
  if (same(a, o)) return b;
  if (same(b, o)) return a;
  // Both changed the key differently (a removal counts as a change): a parseable time beats
  // an absent or unparseable one, then the newer time, then the greater JSON text.
  const order =
    compareInstants(parseInstant(a), parseInstant(b)) ||
    (a === undefined ? 0 : 1) - (b === undefined ? 0 : 1) ||
    compareText(JSON.stringify(a), JSON.stringify(b));
  return order >= 0 ? a : b;
}

/**
 * state/checks.json: merges per job, keeping the newer run time of each. A side that is not
 * a JSON object loses whole; a base that is not one counts as empty. When the result equals
 * one side it is returned byte for byte; otherwise it is written with sorted keys.
 */
export function mergeChecks(base: string | null, ours: string, theirs: string): TextMerge {
  const a = parseObject(ours);
  const b = parseObject(theirs);
  if (!a && !b) return { error: "neither side of state/checks.json is a JSON object" };
  if (!a || !b) return { content: a ? ours : theirs };
  const o = (base !== null && parseObject(base)) || {};
  const merged: Record<string, unknown> = {};
  const keys = [...new Set([...Object.keys(o), ...Object.keys(a), ...Object.keys(b)])].sort();
  for (const key of keys) {
    const value = mergeKey(o[key], a[key], b[key]);
    if (value !== undefined) merged[key] = value;
  }
  const equalsA = sameObject(merged, a);
  const equalsB = sameObject(merged, b);
  if (equalsA && equalsB) return { content: compareText(ours, theirs) >= 0 ? ours : theirs };
  if (equalsA) return { content: ours };
  if (equalsB) return { content: theirs };
  return { content: JSON.stringify(merged, null, 2) + "\n" };
}

function sameObject(x: Record<string, unknown>, y: Record<string, unknown>): boolean {
  const kx = Object.keys(x).sort();
  const ky = Object.keys(y).sort();
  return same(kx, ky) && kx.every((k) => same(x[k], y[k]));
}
