// `prstate install`: routes the data repo's paths to prstate's merge driver. Two halves, both
// needed: the .gitattributes lines (committed, so every clone has them) and the
// `merge.prstate.*` entries of .git/config (never cloned, so every fresh CI checkout needs
// install again). The driver command names node and the driver by absolute path, so git can
// run it from any cwd and whatever PATH the workflow has.
//
// Idempotent: lines already present are left alone, the user's other lines are kept as they
// are, and config values already right are not rewritten. `checkInstalled` is the read-only
// half, used by `install --check` and by push, which refuses to push from a clone without it.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile, rename } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { GitError, errorMessage } from "../errors.js";
import { DRIVER_NAME, DRIVER_STRATEGIES } from "../merge/merge-for-path.js";

const execFileAsync = promisify(execFile);

export interface InstallReport {
  /** The work tree root that was installed into (or checked). */
  repoDir: string;
  /** What this run wrote; empty when everything was already in place (or with `check`). */
  changed: string[];
  /** What is still missing or wrong afterwards; empty = installed. */
  missing: string[];
}

const ATTRIBUTES_HEADER = "# prstate merge driver: kept by `prstate install`, which also sets merge.prstate.* in .git/config";
const DRIVER_LABEL = "prstate merge driver (lists, PR records, times)";

/** The compiled driver entry, next to this module in dist/. */
export function driverScriptPath(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), "../../merge-driver/main.js");
}

/** Quotes one word for the POSIX shell git runs driver commands with. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The `merge.prstate.driver` command line for the given node binary and driver script. */
export function driverCommand(nodePath = process.execPath, scriptPath = driverScriptPath()): string {
  return `${shellQuote(nodePath)} ${shellQuote(scriptPath)} %O %A %B %P`;
}

/** The .gitattributes lines install maintains, one per pattern of DRIVER_STRATEGIES. */
export function attributeLines(): string[] {
  return DRIVER_STRATEGIES.map((row) => `${row.pattern} merge=${DRIVER_NAME}`);
}

async function git(cwd: string, args: string[]): Promise<{ stdout: string; code: number; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync("git", args, { cwd, maxBuffer: 16 * 1024 * 1024 });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: unknown };
    if (typeof e.code !== "number") throw new GitError(`cannot run git: ${errorMessage(err)}`, { cause: err });
    return { stdout: e.stdout ?? "", stderr: e.stderr ?? "", code: e.code };
  }
}

async function workTreeRoot(repoDir: string): Promise<string> {
  if (!existsSync(repoDir)) throw new GitError(`${repoDir} does not exist`);
  const r = await git(repoDir, ["rev-parse", "--show-toplevel"]);
  if (r.code !== 0 || r.stdout.trim() === "") throw new GitError(`${repoDir} is not a git work tree: ${r.stderr.trim().split("\n")[0] ?? ""}`);
  return r.stdout.trim();
}

async function readAttributes(root: string): Promise<string> {
  try {
    return await readFile(join(root, ".gitattributes"), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw new GitError(`cannot read ${join(root, ".gitattributes")}: ${errorMessage(err)}`, { cause: err });
  }
}

function presentLines(text: string): Set<string> {
  return new Set(text.split(/\r?\n/).map((l) => l.trim()));
}

/** A config value: the effective one (what git will use), or only the repo's own with `local`. */
async function configValue(root: string, key: string, local = false): Promise<string | undefined> {
  const r = await git(root, ["config", ...(local ? ["--local"] : []), "--get", key]);
  return r.code === 0 ? r.stdout.replace(/\n$/, "") : undefined;
}

/** What is missing for the driver to run in `repoDir` (empty = installed). Changes nothing. */
export async function checkInstalled(repoDir: string): Promise<string[]> {
  const root = await workTreeRoot(repoDir);
  const missing: string[] = [];

  const present = presentLines(await readAttributes(root));
  const absent = attributeLines().filter((line) => !present.has(line));
  for (const line of absent) missing.push(`.gitattributes: missing line "${line}"`);
  if (absent.length === 0) {
    // The lines are there; a later line (or a nested .gitattributes) may still override them.
    const samples = DRIVER_STRATEGIES.map((row) => row.sample);
    const r = await git(root, ["check-attr", "-z", "merge", "--", ...samples]);
    if (r.code !== 0) throw new GitError(`git check-attr failed: ${r.stderr.trim()}`);
    const fields = r.stdout.split("\0");
    for (let i = 0; i + 2 < fields.length; i += 3) {
      if (fields[i + 2] !== DRIVER_NAME) missing.push(`.gitattributes: ${fields[i]} resolves to merge=${fields[i + 2]}, not merge=${DRIVER_NAME} (a later line overrides prstate's)`);
    }
  }

  const expected = driverCommand();
  const driver = await configValue(root, `merge.${DRIVER_NAME}.driver`);
  if (driver === undefined) missing.push(`git config: merge.${DRIVER_NAME}.driver is not set`);
  else if (driver !== expected) missing.push(`git config: merge.${DRIVER_NAME}.driver is "${driver}", expected "${expected}"`);
  if ((await configValue(root, `merge.${DRIVER_NAME}.name`)) === undefined) missing.push(`git config: merge.${DRIVER_NAME}.name is not set`);
  if (!existsSync(driverScriptPath())) missing.push(`driver script ${driverScriptPath()} does not exist (build prstate first)`);
  return missing;
}

/**
 * Writes what is missing (unless `check`), then reports what is still missing. A non-empty
 * `missing` after a real install means something install must not touch is in the way
 * (a user line overriding the driver), and the report says which.
 */
export async function install(repoDir: string, opts: { check?: boolean } = {}): Promise<InstallReport> {
  const root = await workTreeRoot(repoDir);
  if (opts.check) return { repoDir: root, changed: [], missing: await checkInstalled(root) };
  const changed: string[] = [];

  const file = join(root, ".gitattributes");
  const text = await readAttributes(root);
  const present = presentLines(text);
  const add = attributeLines().filter((line) => !present.has(line));
  if (add.length > 0) {
    const eol = text.includes("\r\n") ? "\r\n" : "\n";
    let next = text;
    if (next !== "" && !next.endsWith("\n")) next += eol;
    if (!present.has(ATTRIBUTES_HEADER)) next += (next === "" ? "" : eol) + ATTRIBUTES_HEADER + eol;
    next += add.map((line) => line + eol).join("");
    const temp = `${file}.prstate-${process.pid}.tmp`;
    await writeFile(temp, next);
    await rename(temp, file);
    changed.push(`.gitattributes: added ${add.length} line${add.length === 1 ? "" : "s"} (commit it)`);
  }

  const settings: [string, string][] = [
    [`merge.${DRIVER_NAME}.name`, DRIVER_LABEL],
    [`merge.${DRIVER_NAME}.driver`, driverCommand()],
  ];
  for (const [key, value] of settings) {
    if ((await configValue(root, key, true)) === value) continue;
    const r = await git(root, ["config", "--local", key, value]);
    if (r.code !== 0) throw new GitError(`git config ${key} failed: ${r.stderr.trim()}`);
    changed.push(`git config: set ${key}`);
  }

  if (await excludeTempFolders(root)) changed.push(".git/info/exclude: temp folders and files prstate never commits");

  return { repoDir: root, changed, missing: await checkInstalled(root) };
}

// What prstate leaves in a data repo's work tree but never commits: a download's
// `data/N-temp` folder, the temp files of atomic writes, and, when serve or redeliver run
// in the data repo, the default spool and redelivery memory. Not even an existing
// workflow's `git add -A` may commit them. The excludes go into .git/info/exclude, not
// .gitignore, so installing in a CI checkout never dirties the tracked tree that sync
// requires clean.
const TEMP_EXCLUDES = ["/data/*-temp/", ".*.prstate-tmp-*", "/prstate-spool/", "/.prstate-redeliveries.json"];

async function excludeTempFolders(root: string): Promise<boolean> {
  const r = await git(root, ["rev-parse", "--git-path", "info/exclude"]);
  if (r.code !== 0) throw new GitError(`git rev-parse --git-path failed: ${r.stderr.trim()}`);
  const path = resolve(root, r.stdout.trim());
  let text = "";
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw new GitError(`cannot read ${path}: ${errorMessage(err)}`, { cause: err });
  }
  const present = presentLines(text);
  const add = TEMP_EXCLUDES.filter((line) => !present.has(line));
  if (add.length === 0) return false;
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${text}${text === "" || text.endsWith("\n") ? "" : "\n"}${add.join("\n")}\n`);
  return true;
}
