// The four list files at the data repo's root (missing_prs.txt, closed_prs_to_backfill.txt,
// redownload.txt, stubborn_prs.txt). Parsing and editing live in src/lists/list-file.ts; this
// module only moves bytes: a missing file reads as an empty list, and a write whose bytes
// equal the file's leaves the file alone (no rewrite, no mtime change for git to look at).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { LIST_FILES, type ListName } from "../layout.js";
import { emptyList, parseList, serializeList, type ListFile } from "../lists/list-file.js";
import { writeFileAtomic } from "./atomic-write.js";

export const LIST_NAMES = Object.keys(LIST_FILES) as ListName[];

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** Reads a list file; a missing file is an empty list. */
export async function readList(repo: string, name: ListName): Promise<ListFile> {
  const text = await readText(join(repo, LIST_FILES[name]));
  return text === undefined ? emptyList() : parseList(text);
}

/**
 * Writes a list file atomically. Returns whether the bytes on disk changed. An emptied list
 * stays as an empty file (workflows `cat` it); a list that never existed is not created empty.
 */
export async function writeList(repo: string, name: ListName, list: ListFile): Promise<boolean> {
  const path = join(repo, LIST_FILES[name]);
  const text = serializeList(list);
  const current = await readText(path);
  if (current === text || (current === undefined && text === "")) return false;
  await writeFileAtomic(path, text);
  return true;
}
