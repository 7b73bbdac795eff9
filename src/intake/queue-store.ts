// The data repo's event queue: `state/queue/<N>/<delivery-id>.json`, one file per accepted
// event and PR (DESIGN section 1). Distinct names per delivery mean concurrent writers
// never conflict, and the same delivery enqueued twice (a redelivery, two hooks, a re-run
// drain) is stored once. Files are consumed by deleting them in the same commit as the
// data they caused, so a crashed worker leaves its events queued.
import { readFile, rmdir, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { InputError } from "../errors.js";
import { classifyPath, prNumber, queueDir, STATE_DIR } from "../layout.js";
import { deliveryFileStem } from "./delivery-id.js";
import type { FetchKind } from "./event-to-work.js";
import { createFileAtomic, fsyncDir, readdirOrEmpty } from "../store/atomic-write.js";

/** The content of one queue file. */
export interface QueueEntry {
  deliveryId: string;
  event: string;
  action?: string;
  /** When the event was received (by the receiver, or enqueued from Actions), ISO-8601 UTC. */
  receivedAt: string;
  pr: number;
  kind: FetchKind;
  /** Head SHA the event named, when it named one. */
  sha?: string;
}

/** A queue file as listed: its entry plus where it is. */
export interface QueuedItem extends QueueEntry {
  /** Repo-relative path (`state/queue/N/ID.json`), what the consumer deletes. */
  path: string;
  /**
   * Set when the file did not parse or lacked fields. The item still counts (as a full
   * request for the PR its folder names), so a damaged hint costs one download, not an event.
   */
  problem?: string;
}

const QUEUE_ROOT = `${STATE_DIR}/queue`;
const NAME_RE = /^[a-z_]+$/;
const SHA_RE = /^[0-9a-f]{40}$/;

/** Repo-relative path of the queue file of one delivery for one PR. */
export function queuePath(pr: number, deliveryId: string): string {
  return `${queueDir(pr)}/${deliveryFileStem(deliveryId)}.json`;
}

function validEntry(item: QueueEntry): QueueEntry {
  const pr = prNumber(item.pr);
  if (typeof item.deliveryId !== "string" || item.deliveryId.trim() === "") throw new InputError("queue entry: delivery id is empty");
  if (typeof item.event !== "string" || !NAME_RE.test(item.event)) throw new InputError(`queue entry: not an event name: ${JSON.stringify(item.event)}`);
  if (item.action !== undefined && (typeof item.action !== "string" || !/^[A-Za-z0-9_.-]{1,100}$/.test(item.action))) {
    throw new InputError(`queue entry: not an action name: ${JSON.stringify(item.action).slice(0, 60)}`);
  }
  const t = new Date(item.receivedAt);
  if (typeof item.receivedAt !== "string" || Number.isNaN(t.getTime())) throw new InputError(`queue entry: receivedAt is not a time: ${JSON.stringify(item.receivedAt)}`);
  if (item.kind !== "full" && item.kind !== "basic") throw new InputError(`queue entry: kind must be "full" or "basic"`);
  if (item.sha !== undefined && !SHA_RE.test(item.sha)) throw new InputError(`queue entry: not a SHA: ${JSON.stringify(item.sha)}`);
  // Fixed key order and jq-style layout, like every JSON file of the data repo.
  return {
    deliveryId: item.deliveryId,
    event: item.event,
    ...(item.action !== undefined ? { action: item.action } : {}),
    receivedAt: t.toISOString(),
    pr,
    kind: item.kind,
    ...(item.sha !== undefined ? { sha: item.sha } : {}),
  };
}

/**
 * Stores one event for one PR durably (fsync'd, atomic). Idempotent by delivery id: when the
 * file exists it is left as it is and `stored` is false.
 */
export async function enqueueEvent(repo: string, item: QueueEntry): Promise<{ path: string; stored: boolean }> {
  const entry = validEntry(item);
  const path = queuePath(entry.pr, entry.deliveryId);
  const stored = await createFileAtomic(join(repo, path), JSON.stringify(entry, null, 2) + "\n");
  return { path, stored };
}

function parseItem(text: string, pr: number, path: string, fallbackTime: string): QueuedItem {
  const stem = path.slice(path.lastIndexOf("/") + 1, -".json".length);
  const damaged = (problem: string): QueuedItem => ({ deliveryId: stem, event: "unknown", receivedAt: fallbackTime, pr, kind: "full", path, problem });
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return damaged("not valid JSON");
  }
  const d = doc as Partial<QueueEntry> | null;
  if (typeof d !== "object" || d === null || Array.isArray(d)) return damaged("not a JSON object");
  if (typeof d.event !== "string" || !NAME_RE.test(d.event)) return damaged("no event name");
  if (typeof d.receivedAt !== "string" || Number.isNaN(Date.parse(d.receivedAt))) return damaged("no receivedAt time");
  const item: QueuedItem = {
    deliveryId: typeof d.deliveryId === "string" && d.deliveryId !== "" ? d.deliveryId : stem,
    event: d.event,
    receivedAt: new Date(d.receivedAt).toISOString(),
    // The folder decides the PR: it is what the consumer deletes and what classifyPath reports.
    pr,
    kind: d.kind === "basic" ? "basic" : "full",
    path,
  };
  if (typeof d.action === "string") item.action = d.action;
  if (typeof d.sha === "string" && SHA_RE.test(d.sha)) item.sha = d.sha;
  if (d.pr !== undefined && d.pr !== pr) item.problem = `names PR ${JSON.stringify(d.pr)} but is queued under ${pr}`;
  return item;
}

/**
 * Every queue file of the repo, sorted by path. Folders that are not PR numbers are not
 * queue files (the integrity check reports them); temp files of an interrupted write are skipped.
 */
export async function listQueue(repo: string): Promise<QueuedItem[]> {
  const root = join(repo, QUEUE_ROOT);
  const items: QueuedItem[] = [];
  for (const dirName of (await readdirOrEmpty(root)).sort()) {
    if (!/^[1-9][0-9]*$/.test(dirName)) continue;
    let pr: number;
    try {
      pr = prNumber(dirName);
    } catch {
      continue;
    }
    const names = (await readdirOrEmpty(join(root, dirName))).filter((n) => n.endsWith(".json") && !n.startsWith(".")).sort();
    const read = await Promise.all(
      names.map(async (name) => {
        const path = `${QUEUE_ROOT}/${dirName}/${name}`;
        const full = join(repo, path);
        try {
          const [text, st] = await Promise.all([readFile(full, "utf8"), stat(full)]);
          return parseItem(text, pr, path, st.mtime.toISOString());
        } catch (err) {
          // Consumed by another writer between readdir and read: nothing to list.
          if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
          throw err;
        }
      }),
    );
    for (const item of read) if (item) items.push(item);
  }
  return items;
}

/**
 * Deletes handled queue files (repo-relative paths) and their then-empty PR folders. Refuses
 * any path that is not a queue file, so a bug upstream can never delete data. Already-gone
 * files are fine (another writer consumed them). Returns how many files were deleted.
 */
export async function removeQueued(repo: string, paths: readonly string[]): Promise<number> {
  for (const p of paths) {
    if (classifyPath(p).kind !== "queue" || p.includes("..") || !p.endsWith(".json")) throw new InputError(`not a queue file: ${JSON.stringify(p).slice(0, 80)}`);
  }
  let removed = 0;
  const dirs = new Set<string>();
  for (const p of paths) {
    try {
      await unlink(join(repo, p));
      removed++;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    dirs.add(p.slice(0, p.lastIndexOf("/")));
  }
  for (const d of dirs) {
    await fsyncDir(join(repo, d)).catch(() => undefined);
    try {
      await rmdir(join(repo, d));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOTEMPTY" && code !== "EEXIST" && code !== "ENOENT") throw err;
    }
  }
  return removed;
}
