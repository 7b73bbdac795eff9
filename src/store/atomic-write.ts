// Crash-safe file primitives for the data repo. A writer killed at any point must leave either
// the old bytes or the new bytes at a path, never a prefix of the new ones: every write goes to
// a temp file in the same folder (same filesystem, so rename is atomic), is fsynced, renamed
// over the target, and the folder is fsynced so the rename itself survives a power loss.
import { randomBytes } from "node:crypto";
import { link, lstat, mkdir, open, readdir, rename, rm, unlink } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";

// Temp files carry this marker so readers skip them and cleanup can find them; the leading
// dot keeps them out of `ls` and of globs such as `*.json`.
const TEMP_MARKER = ".prstate-tmp-";

/** Whether a file name is one of this module's temp files (left behind only by a crash). */
export function isTempFileName(name: string): boolean {
  return name.startsWith(".") && name.includes(TEMP_MARKER);
}

/** Whether anything (file, folder, link) has that name; other errors than ENOENT are thrown. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
}

/** A folder's entries; a folder that does not exist (or is a file) has none. */
export async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    throw err;
  }
}

function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}${TEMP_MARKER}${process.pid}-${randomBytes(4).toString("hex")}`);
}

/** fsync a folder, so that entries created, renamed or removed in it are durable. */
export async function fsyncDir(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch (err) {
    // Some platforms and filesystems (Windows, some network mounts) cannot fsync a folder;
    // the rename is still atomic there, only its durability is up to the OS.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "EISDIR" && code !== "EPERM" && code !== "EINVAL" && code !== "EBADF") throw err;
  } finally {
    await handle?.close();
  }
}

/** Writes `data` to a new file at `path` and fsyncs it (no rename; `flag` "wx" refuses to overwrite). */
export async function writeFileSynced(path: string, data: string | Uint8Array, flag = "w"): Promise<void> {
  const handle = await open(path, flag, 0o644);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Creates `dir` and its missing parents; the parents of every folder it created are fsynced,
 * so a file made durable inside it cannot vanish with its folder after a power loss.
 */
export async function ensureDir(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  const stop = dirname(resolve(first));
  for (let d = resolve(dir); d !== stop && d !== dirname(d); d = dirname(d)) await fsyncDir(dirname(d));
}

/** Replaces the file at `path` atomically (creating its folder when needed). */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await ensureDir(dirname(path));
  const temp = tempPathFor(path);
  try {
    await writeFileSynced(temp, data, "wx");
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  await fsyncDir(dirname(path));
}

/**
 * Creates the file at `path` atomically, only if no file has that name yet: the complete
 * temp file is hard-linked to the final name, which fails when the name exists. Returns
 * false (and writes nothing) when it exists, so concurrent creators never overwrite each other.
 */
export async function createFileAtomic(path: string, data: string | Uint8Array): Promise<boolean> {
  await ensureDir(dirname(path));
  const temp = tempPathFor(path);
  try {
    await writeFileSynced(temp, data, "wx");
    try {
      await link(temp, path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EEXIST") return false;
      // Filesystems without hard links: check, then rename (atomic, exclusive only best effort).
      if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP") throw err;
      if (await pathExists(path)) return false;
      await rename(temp, path);
    }
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  await fsyncDir(dirname(path));
  return true;
}

/** Removes a file or folder tree if it exists, and makes the removal durable. */
export async function removeTree(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
  await fsyncDir(dirname(path)).catch((err: NodeJS.ErrnoException) => {
    // The parent may be gone too (a concurrent cleanup); then there is nothing to sync.
    if (err.code !== "ENOENT") throw err;
  });
}
