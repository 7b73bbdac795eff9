// `data/<N>[-basic]/timestamp.txt`: the fetch time of a record, one ISO-8601 UTC line in the
// format the existing tooling writes (`2024-12-16T11:03:37Z`, no milliseconds) plus "\n".
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { InputError } from "../errors.js";
import { basicDir, fullDir } from "../layout.js";

export const TIMESTAMP_FILE = "timestamp.txt";

/** A time as `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds, truncated). */
export function isoSeconds(time: Date | string | number): string {
  const date = time instanceof Date ? time : new Date(time);
  if (Number.isNaN(date.getTime())) throw new InputError(`not a time: ${JSON.stringify(String(time)).slice(0, 40)}`);
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The bytes of a timestamp.txt for `time`. */
export function formatTimestamp(time: Date | string | number): string {
  return `${isoSeconds(time)}\n`;
}

// Accepts what older tools wrote (fractions, an offset, CRLF, surrounding blanks) but only
// a real date-time: a bare date or free text is not a fetch time.
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/** The time in a timestamp.txt, normalised by `isoSeconds`; undefined when it is not one. */
export function parseTimestamp(text: string): string | undefined {
  const line = text.trim();
  if (!ISO_DATE_TIME.test(line)) return undefined;
  const ms = Date.parse(line);
  return Number.isNaN(ms) ? undefined : isoSeconds(ms);
}

export type TimestampRead = { status: "missing" } | { status: "invalid"; text: string } | { status: "ok"; at: string };

/** Reads `data/<N>[-basic]/timestamp.txt`. */
export async function readTimestamp(repo: string, pr: number, opts: { basic: boolean }): Promise<TimestampRead> {
  const path = join(repo, opts.basic ? basicDir(pr) : fullDir(pr), TIMESTAMP_FILE);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { status: "missing" };
    throw err;
  }
  const at = parseTimestamp(text);
  return at === undefined ? { status: "invalid", text: text.slice(0, 80) } : { status: "ok", at };
}
