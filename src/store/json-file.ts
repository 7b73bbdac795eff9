// Small JSON state files of the data repo (`state/watermark.json`, `state/checks.json`, attempt
// files): one layout for all of them, the `jq .` style the rest of the repo uses, so a file
// prstate rewrites without a change keeps its bytes and diffs stay line-based.
import { readFile } from "node:fs/promises";
import { DataError } from "../errors.js";

/** `jq .` layout: 2-space indent, final newline. */
export function formatJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Reads and parses a JSON file; undefined when it does not exist, DataError when it does not parse. */
export async function readJsonFile(path: string, label: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new DataError(`${label} is not valid JSON`);
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
