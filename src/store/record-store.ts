// PR record folders: `data/<N>/` (pr_info.json, pr_reactions.json, timestamp.txt) and
// `data/<N>-basic/` (basic_pr_info.json, timestamp.txt). A record is replaced as a whole:
// the new files are written and fsynced in `data/<N>[-basic]-temp/new/`, the old folder is
// moved aside to `…-temp/old/`, the new one renamed into place, and only then is the temp
// folder removed. A crash at any point leaves `data/<N>` either the old complete record, the
// new complete record, or (between the two renames) absent with both kept under `-temp`,
// which `cleanupRecordTemp` puts back; never a mix of old and new files.
import { readdir, readFile, rename } from "node:fs/promises";
import { join, resolve } from "node:path";
import { DataError, errorMessage, InputError } from "../errors.js";
import { basicDir, DATA_DIR, fullDir, prNumber, tempDir } from "../layout.js";
import { compareInstants, parseInstant } from "../merge/instant.js";
import { isRecordDoc, recordUpdatedAt } from "../merge/record-meta.js";
import type { RecordFacts } from "../state/pr-facts.js";
import { ensureDir, fsyncDir, pathExists, removeTree, writeFileSynced } from "./atomic-write.js";
import { formatJson, isPlainObject } from "./json-file.js";
import { allowedFiles, mainFile, parseRecord, type FolderEntry, type ParsedRecord } from "./record-facts.js";
import { formatTimestamp, isoSeconds, TIMESTAMP_FILE } from "./timestamp-file.js";

export interface StoredRecord extends ParsedRecord {
  pr: number;
  basic: boolean;
  /** Repo-relative folder (`data/N` or `data/N-basic`). */
  dir: string;
}

/** Repo-relative folder of PR N's full or basic record. */
export function recordDir(pr: number, basic: boolean): string {
  return basic ? basicDir(pr) : fullDir(pr);
}

/**
 * Reads the record folder at `absDir`; undefined when it does not exist. Only the files a
 * record may hold are read (an unexpected file is reported by name, never parsed).
 */
export async function readRecordFolder(absDir: string, pr: number, basic: boolean, opts: { keepDocs: boolean }): Promise<ParsedRecord | undefined> {
  let dirents;
  try {
    dirents = await readdir(absDir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    if (code === "ENOTDIR") return { facts: { basic, valid: false, problems: ["is a file, not a folder"] }, docs: {} };
    // Permissions, a symlink loop, I/O: not something a re-download repairs, so not a finding.
    throw new DataError(`${absDir}: cannot read the record folder (${code ?? errorMessage(err)})`, { cause: err });
  }
  const entries: FolderEntry[] = dirents.map((d) => ({ name: d.name, isFile: d.isFile() }));
  const allowed = allowedFiles(basic);
  const wanted = entries.filter((e) => e.isFile && allowed.includes(e.name)).map((e) => e.name);
  const bytes = new Map<string, Buffer>();
  await Promise.all(
    wanted.map(async (name) => {
      try {
        bytes.set(name, await readFile(join(absDir, name)));
      } catch (err) {
        // Removed between readdir and read (a concurrent writer replacing the record).
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      }
    }),
  );
  const decode = (encoding: "utf8" | "latin1") => new Map([...bytes].map(([name, b]) => [name, b.toString(encoding)]));
  if (opts.keepDocs) return parseRecord(pr, basic, { entries, texts: decode("utf8") }, opts);
  // Scans keep only the facts, so they take a shortcut that halves their cost: decoding as
  // latin1 (one byte per character) and parsing that is several times faster than UTF-8 for
  // files with any non-ASCII text, and accepts exactly the same JSON syntax. It changes only
  // the non-ASCII characters inside strings, so the facts are exact whenever they are all
  // ASCII; otherwise the files are parsed again as UTF-8.
  const quick = parseRecord(pr, basic, { entries, texts: decode("latin1") }, opts);
  return NON_ASCII.test(JSON.stringify(quick.facts)) ? parseRecord(pr, basic, { entries, texts: decode("utf8") }, opts) : quick;
}

const NON_ASCII = /[^\x00-\x7f]/;

/** PR N's full or basic record with its parsed files and facts; undefined when absent. */
export async function readRecord(repo: string, pr: number, opts: { basic: boolean }): Promise<StoredRecord | undefined> {
  const n = prNumber(pr);
  const dir = recordDir(n, opts.basic);
  const parsed = await readRecordFolder(join(repo, dir), n, opts.basic, { keepDocs: true });
  return parsed && { ...parsed, pr: n, basic: opts.basic, dir };
}

/** Only the facts of PR N's full or basic record (nothing parsed is kept); undefined when absent. */
export async function readRecordFacts(repo: string, pr: number, opts: { basic: boolean }): Promise<RecordFacts | undefined> {
  const n = prNumber(pr);
  return (await readRecordFolder(join(repo, recordDir(n, opts.basic)), n, opts.basic, { keepDocs: false }))?.facts;
}

export interface WriteRecordOptions {
  basic: boolean;
  /** The JSON files by name (`pr_info.json`, `pr_reactions.json` / `basic_pr_info.json`); the main file is required. */
  files: Record<string, unknown>;
  /** When the data was fetched: stamped into every file and written to timestamp.txt. */
  fetchedAt: Date | string;
  /**
   * Also remove the other kind of record (`data/N-basic` when writing `data/N`, and vice
   * versa), after the new record is in place. A newer other record refuses the write.
   */
  removeOther?: boolean;
}

export type WriteRecordResult =
  | { written: true; dir: string; removed: string[] }
  /** `newer` is the repo-relative folder holding the newer record. */
  | { written: false; reason: "stale"; newer: string };

/** The top-level stamp prstate adds beside `data` (replacing an earlier stamp). */
export function stampRecord(doc: Record<string, unknown>, fetchedAt: string): Record<string, unknown> {
  const { prstate: _old, ...rest } = doc;
  return { ...rest, prstate: { fetchedAt } };
}

// Writes of one PR in this process run one at a time: the staleness check and the swap must
// see the same folder. (Separate processes work in separate clones; git merges those.)
const locks = new Map<string, Promise<unknown>>();

async function withPrLock<T>(repo: string, pr: number, fn: () => Promise<T>): Promise<T> {
  const key = `${resolve(repo)}\0${pr}`;
  const previous = locks.get(key) ?? Promise.resolve();
  const run = previous.then(fn, fn);
  const settled = run.catch(() => undefined);
  locks.set(key, settled);
  try {
    return await run;
  } finally {
    if (locks.get(key) === settled) locks.delete(key);
  }
}

function validateFiles(pr: number, basic: boolean, files: Record<string, unknown>): void {
  const allowed = allowedFiles(basic).filter((f) => f !== TIMESTAMP_FILE);
  const main = mainFile(basic);
  if (!(main in files)) throw new InputError(`record of PR ${pr}: ${main} is required`);
  for (const [name, doc] of Object.entries(files)) {
    if (!allowed.includes(name)) throw new InputError(`record of PR ${pr}: ${JSON.stringify(name).slice(0, 60)} is not a ${basic ? "basic " : ""}record file`);
    if (!isRecordDoc(doc)) throw new DataError(`record of PR ${pr}: ${name} is not a pull request response (no data.repository.pullRequest, or GraphQL errors)`);
  }
  const number = ((files[main] as { data: { repository: { pullRequest: Record<string, unknown> } } }).data.repository.pullRequest).number;
  if (number !== undefined && number !== pr) throw new DataError(`record of PR ${pr}: ${main} is the response for PR ${JSON.stringify(number)}`);
}

/** Positive when record `a` is newer: PR `updatedAt` first, then fetch time (as the merge orders them). */
function compareAge(a: { updatedAt?: string; fetchedAt?: string }, b: { updatedAt?: string; fetchedAt?: string }): number {
  return compareInstants(parseInstant(a.updatedAt), parseInstant(b.updatedAt)) || compareInstants(parseInstant(a.fetchedAt), parseInstant(b.fetchedAt));
}

/**
 * Writes PR N's full or basic record as a whole (see the top of this file). Refuses, writing
 * nothing, when the stored record (or, with `removeOther`, the other kind) is valid and newer
 * than this one by `updatedAt`, then fetch time: a slow download must not undo a faster one.
 */
export async function writeRecord(repo: string, pr: number, opts: WriteRecordOptions): Promise<WriteRecordResult> {
  const n = prNumber(pr);
  if (!isPlainObject(opts.files)) throw new InputError(`record of PR ${n}: files must be an object of file name -> JSON`);
  validateFiles(n, opts.basic, opts.files);
  const fetchedAt = isoSeconds(opts.fetchedAt);
  const incoming = { updatedAt: recordUpdatedAt(opts.files[mainFile(opts.basic)]), fetchedAt };

  return withPrLock(repo, n, async () => {
    const dir = recordDir(n, opts.basic);
    const otherDir = recordDir(n, !opts.basic);
    for (const [d, basic] of opts.removeOther ? ([[dir, opts.basic], [otherDir, !opts.basic]] as const) : ([[dir, opts.basic]] as const)) {
      const facts = (await readRecordFolder(join(repo, d), n, basic, { keepDocs: false }))?.facts;
      if (facts?.valid && compareAge(facts, incoming) > 0) return { written: false, reason: "stale", newer: d };
    }

    const temp = join(repo, tempDir(n, opts.basic));
    const staged = join(temp, "new");
    const aside = join(temp, "old");
    const target = join(repo, dir);
    await removeTree(temp);
    try {
      await ensureDir(staged);
      for (const [name, doc] of Object.entries(opts.files)) {
        await writeFileSynced(join(staged, name), formatJson(stampRecord(doc as Record<string, unknown>, fetchedAt)), "wx");
      }
      await writeFileSynced(join(staged, TIMESTAMP_FILE), formatTimestamp(fetchedAt), "wx");
      await fsyncDir(staged);
    } catch (err) {
      // Nothing was moved yet: the stored record is untouched, only the staging goes.
      await removeTree(temp).catch(() => undefined);
      throw err;
    }

    let movedAside = true;
    try {
      await rename(target, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      movedAside = false;
    }
    try {
      await rename(staged, target);
    } catch (err) {
      if (movedAside) await rename(aside, target).catch(() => undefined);
      throw err;
    }
    await fsyncDir(join(repo, DATA_DIR));
    await removeTree(temp);

    const removed: string[] = [];
    if (opts.removeOther && (await pathExists(join(repo, otherDir)))) {
      await removeTree(join(repo, otherDir));
      removed.push(otherDir);
    }
    return { written: true, dir, removed };
  });
}

/** Removes PR N's full or basic record folder (a broken record, or a basic one superseded). */
export async function removeRecord(repo: string, pr: number, opts: { basic: boolean }): Promise<boolean> {
  const n = prNumber(pr);
  return withPrLock(repo, n, async () => {
    const path = join(repo, recordDir(n, opts.basic));
    if (!(await pathExists(path))) return false;
    await removeTree(path);
    return true;
  });
}

/**
 * Deals with the `-temp` folders a crashed write leaves. When the crash came between the two
 * renames (`data/N` absent, the old record under `-temp/old`), the record is put back first:
 * the staged new one if it is complete and valid (it was fsynced before the old one moved),
 * else the old one. Then the temp folder goes. Returns the repo-relative folders restored
 * and the temp folders removed.
 */
export async function cleanupRecordTemp(repo: string, pr: number): Promise<{ restored: string[]; removed: string[] }> {
  const n = prNumber(pr);
  return withPrLock(repo, n, async () => {
    const out = { restored: [] as string[], removed: [] as string[] };
    for (const basic of [false, true]) {
      const temp = join(repo, tempDir(n, basic));
      if (!(await pathExists(temp))) continue;
      const dir = recordDir(n, basic);
      const target = join(repo, dir);
      if (!(await pathExists(target)) && (await pathExists(join(temp, "old")))) {
        const staged = await readRecordFolder(join(temp, "new"), n, basic, { keepDocs: false });
        await rename(join(temp, staged?.facts.valid ? "new" : "old"), target);
        await fsyncDir(join(repo, DATA_DIR));
        out.restored.push(dir);
      }
      await removeTree(temp);
      out.removed.push(tempDir(n, basic));
    }
    return out;
  });
}
