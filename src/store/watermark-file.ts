// `state/watermark.json`: the GitHub `updated_at` up to which polling has downloaded every PR
// (DESIGN section 6.3). Polling pages back to this time. It only moves forward, like the merge
// of this file ("newest time wins"): a slow run finishing after a faster one leaves the newer
// mark in place, so the local file never disagrees with what a merge would produce.
import { join } from "node:path";
import { DataError } from "../errors.js";
import { prNumber, WATERMARK_FILE } from "../layout.js";
import { writeFileAtomic } from "./atomic-write.js";
import { formatJson, isPlainObject, readJsonFile } from "./json-file.js";
import { isoSeconds } from "./timestamp-file.js";

export interface Watermark {
  /** ISO-8601 UTC, whole seconds. */
  updatedAt: string;
  /** Workflow run or host id of the writer that set it. */
  writer: string;
  /**
   * GitHub's open PRs when the watermark was set. The next cycle looks at them too, so a
   * record still saying OPEN for a PR closed since then is checked without reading data/.
   */
  open?: number[];
}

/** The watermark, or undefined when the file does not exist. DataError when it is malformed. */
export async function readWatermark(repo: string): Promise<Watermark | undefined> {
  const doc = await readJsonFile(join(repo, WATERMARK_FILE), WATERMARK_FILE);
  if (doc === undefined) return undefined;
  if (!isPlainObject(doc) || typeof doc.updatedAt !== "string" || Number.isNaN(Date.parse(doc.updatedAt))) {
    throw new DataError(`${WATERMARK_FILE}: expected {"updatedAt": ISO time, "writer": id}`);
  }
  const mark: Watermark = { updatedAt: isoSeconds(doc.updatedAt), writer: typeof doc.writer === "string" ? doc.writer : "" };
  if (Array.isArray(doc.open)) mark.open = doc.open.filter((n): n is number => Number.isInteger(n) && (n as number) > 0);
  return mark;
}

/**
 * Sets the watermark. Returns false (nothing written) when the stored one is newer, unless
 * `force`. A malformed stored file is replaced: it carries no usable time.
 */
export async function writeWatermark(repo: string, mark: Watermark, opts: { force?: boolean } = {}): Promise<boolean> {
  const updatedAt = isoSeconds(mark.updatedAt);
  if (!opts.force) {
    const current = await readWatermark(repo).catch((err: unknown) => {
      if (err instanceof DataError) return undefined;
      throw err;
    });
    if (current && Date.parse(current.updatedAt) > Date.parse(updatedAt)) return false;
  }
  const doc: Watermark = { updatedAt, writer: mark.writer };
  if (mark.open) doc.open = [...new Set(mark.open.map((n) => prNumber(n)))].sort((a, b) => a - b);
  await writeFileAtomic(join(repo, WATERMARK_FILE), formatJson(doc));
  return true;
}
