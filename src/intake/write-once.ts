// Durable, exclusive file creation for the spool and the queue: an event file either exists
// complete and fsync'd, or not at all, and a second writer of the same name (a duplicate
// delivery, a concurrent drain) never replaces the first. Both properties come from writing
// a temp file, fsyncing it, then hard-linking it to the final name (link fails with EEXIST
// instead of overwriting, unlike rename), then fsyncing the directory so the name survives
// a power cut.
import { randomBytes } from "node:crypto";
import { link, mkdir, open, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** Marks the temp files of writeOnce; readers skip names starting with "." (a crash can leave one). */
export const TEMP_PREFIX = ".";

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
}

/** fsync a directory so a new or removed entry in it is durable (best effort where unsupported). */
export async function fsyncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, "r");
    await fh.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "EISDIR" && code !== "EINVAL" && code !== "EPERM" && code !== "ENOTSUP") throw err;
  } finally {
    await fh?.close();
  }
}

/**
 * Creates `path` with `data` unless it exists. Resolves "stored" once the file and its
 * directory entry are on disk, "exists" when the name was already taken (content untouched).
 */
export async function writeOnce(path: string, data: string | Buffer): Promise<"stored" | "exists"> {
  const dir = dirname(path);
  const made = await mkdir(dir, { recursive: true });
  if (await exists(path)) return "exists";
  const tmp = join(dir, `${TEMP_PREFIX}${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  const fh = await open(tmp, "wx", 0o644);
  let result: "stored" | "exists";
  try {
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await link(tmp, path);
      result = "stored";
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EEXIST") result = "exists";
      // Filesystems without hard links: rename is still atomic, only the exclusivity
      // check above becomes best effort (the same content would win anyway).
      else if (code === "EPERM" || code === "ENOTSUP" || code === "EOPNOTSUPP" || code === "EXDEV") {
        await rename(tmp, path);
        result = "stored";
      } else throw err;
    }
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  if (result === "stored") {
    await fsyncDir(dir);
    // Folders mkdir just created need their own entries made durable too.
    if (made !== undefined) {
      for (let d = dir; d !== dirname(made) && d !== dirname(d); ) {
        d = dirname(d);
        await fsyncDir(d);
      }
    }
  }
  return result;
}
