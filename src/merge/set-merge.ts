// 3-way set merge of list files (DESIGN section 4).
//
// Membership is decided per PR number, not by position: an entry is in the result when both
// sides have it, or when it is new on either side; an entry that either side no longer has
// (removed, e.g. because its PR got downloaded) stays removed, and duplicates collapse.
// Comments and other non-entry lines follow the same 3-way rule by count, so a comment one
// side deleted stays deleted and one both sides added appears once.
//
// Placement is positional: each side is aligned with the base, lines both sides kept stay
// where they were, and lines a side inserted go into the gap after the base line they follow,
// as one run, so a comment header stays with the numbers under it. Two runs inserted into the
// same gap are ordered by their content (never by side), which makes the merge symmetric:
// merge(O,A,B) and merge(O,B,A) are the same bytes.
import { classifyLine, parseList, serializeList, type ListFile, type ListLine } from "../lists/list-file.js";
import { compareText } from "./instant.js";
import { alignLines } from "./line-diff.js";

/** Merges list file texts. The trivial cases return the changed side verbatim, like git does. */
export function mergeLists(base: string, ours: string, theirs: string): string {
  if (ours === theirs || theirs === base) return ours;
  if (ours === base) return theirs;
  return serializeList(mergeListFiles(parseList(base), parseList(ours), parseList(theirs)));
}

/** What makes two lines "the same line" for alignment: the meaning, not the whitespace. */
function lineKey(line: ListLine): string {
  switch (line.type) {
    case "entry":
      return `#${line.pr}`;
    case "blank":
      return "_";
    case "comment":
      return `c${line.raw.trim()}`;
    case "invalid":
      return `i${line.raw.trim()}`;
  }
}

interface SideView {
  lines: ListLine[];
  /** For each base line, the matching line of this side, or -1 if the side dropped it there. */
  kept: Int32Array;
  /** For each gap 0..n of the base (gap g is just before base line g), the lines inserted there. */
  inserted: ListLine[][];
}

function viewOf(baseKeys: string[], side: ListFile): SideView {
  const keys = side.lines.map(lineKey);
  const kept = alignLines(baseKeys, keys);
  const matchedBase = new Int32Array(keys.length).fill(-1);
  kept.forEach((j, i) => {
    if (j >= 0) matchedBase[j] = i;
  });
  const inserted: ListLine[][] = Array.from({ length: baseKeys.length + 1 }, () => []);
  let gap = 0;
  side.lines.forEach((line, j) => {
    if (matchedBase[j]! >= 0) gap = matchedBase[j]! + 1;
    else inserted[gap]!.push(line);
  });
  return { lines: side.lines, kept, inserted };
}

function countKeys(lines: ListLine[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of lines) if (line.type !== "blank") counts.set(lineKey(line), (counts.get(lineKey(line)) ?? 0) + 1);
  return counts;
}

/**
 * How many lines with this key the result may hold. Entries: 1 if in both sides, or new on
 * either; else 0. Other lines: the 3-way count (both sides made the same change -> that
 * count; otherwise base + what each side added or removed).
 */
function allowedCount(key: string, o: number, a: number, b: number): number {
  if (key.startsWith("#")) return (a > 0 && b > 0) || (o === 0 && (a > 0 || b > 0)) ? 1 : 0;
  return a === b ? a : Math.max(0, a + b - o);
}

export function mergeListFiles(base: ListFile, ours: ListFile, theirs: ListFile): ListFile {
  const baseKeys = base.lines.map(lineKey);
  const a = viewOf(baseKeys, ours);
  const b = viewOf(baseKeys, theirs);

  const countO = countKeys(base.lines);
  const countA = countKeys(ours.lines);
  const countB = countKeys(theirs.lines);
  const allowed = new Map<string, number>();
  for (const key of new Set([...countO.keys(), ...countA.keys(), ...countB.keys()])) {
    allowed.set(key, allowedCount(key, countO.get(key) ?? 0, countA.get(key) ?? 0, countB.get(key) ?? 0));
  }

  let candidate = place(base, a, b, () => false);
  // An entry both sides still have can vanish from the placement when the base held it more
  // than once and each side dropped a different copy. Such entries keep a copy either side kept.
  const placed = new Set(candidate.map(lineKey));
  const lost = new Set([...allowed].filter(([key, n]) => key.startsWith("#") && n > 0 && !placed.has(key)).map(([key]) => key));
  if (lost.size > 0) candidate = place(base, a, b, (key) => lost.has(key));

  const used = new Map<string, number>();
  const lines = candidate.filter((line) => {
    if (line.type === "blank") return true;
    const key = lineKey(line);
    const n = used.get(key) ?? 0;
    if (n >= (allowed.get(key) ?? 0)) return false;
    used.set(key, n + 1);
    return true;
  });

  // Line endings and the final newline: the base's, unless both sides changed them alike.
  return {
    lines,
    eol: ours.eol === theirs.eol ? ours.eol : base.eol,
    finalNewline: ours.finalNewline === theirs.finalNewline ? ours.finalNewline : base.finalNewline,
  };
}

/** Lays out base lines both sides kept (or `rescue` allows) and every inserted run, in order. */
function place(base: ListFile, a: SideView, b: SideView, rescue: (key: string) => boolean): ListLine[] {
  const out: ListLine[] = [];
  const n = base.lines.length;
  for (let g = 0; g <= n; g++) {
    out.push(...combineRuns(a.inserted[g]!, b.inserted[g]!));
    if (g === n) break;
    const ja = a.kept[g]!;
    const jb = b.kept[g]!;
    if (ja >= 0 && jb >= 0) out.push(mergedLine(base.lines[g]!.raw, a.lines[ja]!.raw, b.lines[jb]!.raw));
    else if ((ja >= 0 || jb >= 0) && rescue(lineKey(base.lines[g]!))) out.push(plain(base.lines[g]!));
  }
  return out;
}

/** A line without a per-line terminator: the merged file uses one line ending throughout. */
function plain(line: ListLine): ListLine {
  return classifyLine(line.raw);
}

/** A base line both sides kept: a side's rewrite of it (whitespace, say) wins over no rewrite. */
function mergedLine(o: string, a: string, b: string): ListLine {
  const raw = a === b || b === o ? a : a === o ? b : compareText(a, b) <= 0 ? a : b;
  return classifyLine(raw);
}

function runOrder(x: ListLine[], y: ListLine[]): number {
  return compareText(x.map(lineKey).join("\n"), y.map(lineKey).join("\n")) || compareText(x.map((l) => l.raw).join("\n"), y.map((l) => l.raw).join("\n"));
}

/**
 * Two runs inserted into the same gap. Lines common to both (by key) appear once, in their
 * common order; between them, the run that sorts first by content goes first.
 */
function combineRuns(x: ListLine[], y: ListLine[]): ListLine[] {
  if (y.length === 0) return x.map(plain);
  if (x.length === 0) return y.map(plain);
  const [first, second] = runOrder(x, y) <= 0 ? [x, y] : [y, x];
  const match = alignLines(first.map(lineKey), second.map(lineKey));
  const out: ListLine[] = [];
  let j = 0;
  first.forEach((line, i) => {
    const m = match[i]!;
    if (m < 0) {
      out.push(plain(line));
      return;
    }
    while (j < m) out.push(plain(second[j++]!));
    out.push(plain(line));
    j = m + 1;
  });
  while (j < second.length) out.push(plain(second[j++]!));
  return out;
}
