// `state/attempts/<N>/<time>-<writer>.json`: one file per failed download attempt of PR N
// (DESIGN section 1). The attempt count is the number of files, so names are unique per
// writer and time (and a counter if even those collide) and a file is never rewritten:
// two writers recording a failure of the same PR add two files, which git merges without a
// conflict. Success deletes the folder.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { InputError, redact } from "../errors.js";
import { attemptsDir, prNumber } from "../layout.js";
import type { AttemptFacts } from "../state/pr-facts.js";
import { createFileAtomic, isTempFileName, removeTree } from "./atomic-write.js";
import { formatJson, isPlainObject } from "./json-file.js";

export interface AttemptInput {
  at: Date | string;
  /** Workflow run or host id; sanitised to [A-Za-z0-9._-] for the file name. */
  writer: string;
  /** The error's class name (`TimeoutError`, `ServerError`, ...). */
  errorClass: string;
  query: "full" | "basic";
  /** A short description; redacted and cut to one line of at most MESSAGE_MAX characters. */
  message?: string;
  /** Workflow run URL or id. */
  run?: string;
}

const MESSAGE_MAX = 300;

/** A writer id or error class as a file-name-safe token (never empty, at most 64 characters). */
export function sanitizeId(id: string): string {
  const clean = id.replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 64);
  return clean === "" || /^\.+$/.test(clean) ? "unknown" : clean;
}

function isoMillis(at: Date | string): string {
  const date = at instanceof Date ? at : new Date(at);
  if (Number.isNaN(date.getTime())) throw new InputError(`not a time: ${JSON.stringify(String(at)).slice(0, 40)}`);
  return date.toISOString();
}

// Messages come from errors, which may quote a request (URL with credentials, headers):
// only the redacted first line is kept, so a full error dump never lands in the repo.
function shortMessage(message: string): string {
  const line = redact(message).split(/\r?\n/, 1)[0]!.trim();
  return line.length > MESSAGE_MAX ? `${line.slice(0, MESSAGE_MAX - 1)}…` : line;
}

/** Records one failed attempt; returns the repo-relative path of the new file. */
export async function recordAttempt(repo: string, pr: number, attempt: AttemptInput): Promise<string> {
  const dir = attemptsDir(prNumber(pr));
  const at = isoMillis(attempt.at);
  const writer = sanitizeId(attempt.writer);
  if (attempt.query !== "full" && attempt.query !== "basic") throw new InputError(`attempt query must be "full" or "basic"`);
  const doc: Record<string, string> = { at, writer, errorClass: sanitizeId(attempt.errorClass), query: attempt.query };
  if (attempt.message !== undefined) doc.message = shortMessage(attempt.message);
  if (attempt.run !== undefined) doc.run = shortMessage(attempt.run);
  const stem = `${at.replace(/:/g, "-")}-${writer}`;
  for (let n = 1; ; n++) {
    const path = `${dir}/${n === 1 ? stem : `${stem}-${n}`}.json`;
    if (await createFileAtomic(join(repo, path), formatJson(doc))) return path;
  }
}

// `2024-12-16T11-03-37.123Z-<writer>.json`: the time part of a name, for files whose content
// cannot be read (they still count: the attempt happened).
const NAME_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2})-(\d{2})-(\d{2}(?:\.\d+)?Z)-(.*)\.json$/;

function factsFromName(name: string, path: string): AttemptFacts {
  const m = NAME_TIME.exec(name);
  const at = m ? `${m[1]}:${m[2]}:${m[3]}` : "1970-01-01T00:00:00.000Z";
  return { at: Number.isNaN(Date.parse(at)) ? "1970-01-01T00:00:00.000Z" : at, writer: m ? m[4]! : "unknown", errorClass: "unreadable", query: "full", path };
}

export interface AttemptFiles {
  /** One entry per attempt file, oldest first. */
  attempts: AttemptFacts[];
  /** Repo-relative paths of attempt files whose content is not a valid attempt (counted anyway). */
  unreadable: string[];
}

/** Reads every attempt file of PR N. */
export async function readAttemptFiles(repo: string, pr: number): Promise<AttemptFiles> {
  const dir = attemptsDir(prNumber(pr));
  let names: string[];
  try {
    names = await readdir(join(repo, dir));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return { attempts: [], unreadable: [] };
    throw err;
  }
  names = names.filter((n) => n.endsWith(".json") && !isTempFileName(n)).sort();
  const out: AttemptFiles = { attempts: [], unreadable: [] };
  const docs = await Promise.all(names.map((n) => readFile(join(repo, dir, n), "utf8").then(parseAttempt, () => undefined)));
  names.forEach((name, i) => {
    const path = `${dir}/${name}`;
    const doc = docs[i];
    if (doc) out.attempts.push({ ...doc, path });
    else {
      out.attempts.push(factsFromName(name, path));
      out.unreadable.push(path);
    }
  });
  out.attempts.sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || (a.path! < b.path! ? -1 : 1));
  return out;
}

function parseAttempt(text: string): Omit<AttemptFacts, "path"> | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isPlainObject(doc)) return undefined;
  const { at, writer, errorClass, query } = doc;
  if (typeof at !== "string" || Number.isNaN(Date.parse(at))) return undefined;
  if (typeof writer !== "string" || typeof errorClass !== "string") return undefined;
  if (query !== "full" && query !== "basic") return undefined;
  return { at, writer, errorClass, query };
}

/** The failed attempts of PR N, oldest first (unreadable files included, see readAttemptFiles). */
export async function listAttempts(repo: string, pr: number): Promise<AttemptFacts[]> {
  return (await readAttemptFiles(repo, pr)).attempts;
}

/** Deletes PR N's attempt folder (after a successful download). */
export async function clearAttempts(repo: string, pr: number): Promise<void> {
  await removeTree(join(repo, attemptsDir(prNumber(pr))));
}
