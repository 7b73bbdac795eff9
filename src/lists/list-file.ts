// The model of a list file (missing_prs.txt, redownload.txt, ...): one PR number per line,
// `--` comments, blank lines. Real lists carry decades of hand edits (duplicates, blank runs,
// CRLF, mixed endings, no final newline), so the model keeps every line verbatim and records
// each line's terminator: parse -> serialize is byte-identical for any input, and an edit
// touches only the lines it means to touch. Pure: no I/O.
import { prNumber } from "../layout.js";

/** One line of a list file. `raw` is the line text without its terminator. */
export type ListLine = (
  | { type: "entry"; pr: number; raw: string }
  | { type: "comment"; raw: string }
  | { type: "blank"; raw: string }
  | { type: "invalid"; raw: string }
) & {
  /**
   * This line's terminator, present only when it differs from the file's `eol` (mixed
   * endings). Lines built by edits leave it out and get the file's style.
   */
  eol?: "\n" | "\r\n";
};

export interface ListFile {
  lines: ListLine[];
  /** The file's dominant line ending, used for lines that do not say otherwise. */
  eol: "\n" | "\r\n";
  /** Whether the last line is terminated. */
  finalNewline: boolean;
}

/**
 * Classifies one line (without terminator). Surrounding whitespace, including a stray `\r`,
 * does not change what a line means: `123\r`, ` 123` and `123` are the same entry. Numbers go
 * through `prNumber` (src/layout.ts), so every entry is a number a path may be built from;
 * anything else (`12a`, `0`, `-3`, `1e3`) is `invalid`, kept verbatim.
 */
export function classifyLine(raw: string): ListLine {
  const text = raw.trim();
  if (text === "") return { type: "blank", raw };
  if (text.startsWith("--")) return { type: "comment", raw };
  try {
    return { type: "entry", pr: prNumber(text), raw };
  } catch {
    return { type: "invalid", raw };
  }
}

/** The line a program writes for `pr`. */
export function entryLine(pr: number): ListLine {
  return { type: "entry", pr, raw: String(pr) };
}

export function parseList(text: string): ListFile {
  const segments = text.split("\n");
  // A terminated last line leaves one empty segment after the final "\n".
  // An empty file has no unterminated line, so entries appended to it get a terminator.
  const finalNewline = text === "" || segments[segments.length - 1] === "";
  if (finalNewline) segments.pop();

  const parsed: { raw: string; eol: "\n" | "\r\n" | null }[] = segments.map((seg, i) => {
    const terminated = i < segments.length - 1 || finalNewline;
    if (!terminated) return { raw: seg, eol: null };
    return seg.endsWith("\r") ? { raw: seg.slice(0, -1), eol: "\r\n" } : { raw: seg, eol: "\n" };
  });

  let crlf = 0;
  let lf = 0;
  for (const p of parsed) {
    if (p.eol === "\r\n") crlf++;
    else if (p.eol === "\n") lf++;
  }
  // Ties (and files without any terminator) count as LF: it is what prstate itself writes.
  const eol = crlf > lf ? "\r\n" : "\n";

  const lines = parsed.map((p) => {
    const line = classifyLine(p.raw);
    if (p.eol !== null && p.eol !== eol) line.eol = p.eol;
    return line;
  });
  return { lines, eol, finalNewline };
}

export function serializeList(list: ListFile): string {
  const n = list.lines.length;
  let out = "";
  for (let i = 0; i < n; i++) {
    const line = list.lines[i]!;
    out += line.raw;
    if (i < n - 1 || list.finalNewline) out += line.eol ?? list.eol;
  }
  return out;
}

/** Unique PR numbers, in the order of their first occurrence. */
export function listEntries(list: ListFile): number[] {
  const seen = new Set<number>();
  const out: number[] = [];
  for (const line of list.lines) {
    if (line.type === "entry" && !seen.has(line.pr)) {
      seen.add(line.pr);
      out.push(line.pr);
    }
  }
  return out;
}

export function hasEntry(list: ListFile, pr: number): boolean {
  return list.lines.some((l) => l.type === "entry" && l.pr === pr);
}

/** Appends the PRs not already present (each once, in the given order). */
export function addEntries(list: ListFile, prs: number[]): ListFile {
  const present = new Set(listEntries(list));
  const added: ListLine[] = [];
  for (const pr of prs) {
    if (present.has(pr)) continue;
    present.add(pr);
    added.push(entryLine(pr));
  }
  if (added.length === 0) return list;
  // A missing final newline stays missing: the old last line gets the file's terminator and
  // the new last line has none.
  return { ...list, lines: [...list.lines, ...added] };
}

/** Removes every occurrence of the given PRs; comments and other lines stay. */
export function removeEntries(list: ListFile, prs: number[]): ListFile {
  const drop = new Set(prs);
  return removeLines(list, (l) => l.type === "entry" && drop.has(l.pr));
}

export function removeLines(list: ListFile, pred: (l: ListLine, i: number) => boolean): ListFile {
  return withLines(list, list.lines.filter((l, i) => !pred(l, i)));
}

/**
 * `list` with some of its lines dropped. A missing final newline belongs to the last line:
 * when that line goes, the new last line keeps the terminator it always had (otherwise
 * removing `2` from "\n2" would also lose the blank line before it).
 */
function withLines(list: ListFile, lines: ListLine[]): ListFile {
  if (lines.length === list.lines.length) return list;
  const lastKept = lines.length > 0 && lines[lines.length - 1] === list.lines[list.lines.length - 1];
  return { ...list, lines, finalNewline: list.finalNewline || !lastKept };
}

/**
 * Keeps the first occurrence of each entry, collapses every run of blank lines to its first
 * line, and keeps every comment and invalid line (people wrote them; only people delete them).
 */
export function dedupeList(list: ListFile): ListFile {
  const seen = new Set<number>();
  const lines: ListLine[] = [];
  for (const line of list.lines) {
    if (line.type === "entry") {
      if (seen.has(line.pr)) continue;
      seen.add(line.pr);
    }
    // Checked against the output, so blanks that became adjacent by dropping a duplicate
    // between them collapse too.
    if (line.type === "blank" && lines.length > 0 && lines[lines.length - 1]!.type === "blank") continue;
    lines.push(line);
  }
  return withLines(list, lines);
}

export function emptyList(): ListFile {
  return { lines: [], eol: "\n", finalNewline: true };
}
