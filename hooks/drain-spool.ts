// Moves the receiver's spooled deliveries into a data repo's queue (`state/queue/N/ID.json`).
// Crash safety comes from the order: the queue files are written and fsync'd BEFORE the
// spool file is removed, so a crash in between leaves the event in both places, and the
// next drain's enqueue finds the queue file already there (same delivery id, same name):
// at worst a duplicate that is stored once, never a loss.
// Every delivery is processed even when some fail; the failures are then thrown as ONE
// DrainError (as octokit/webhooks.js aggregates handler errors), carrying the result too.
import { DataError, errorMessage, PrstateError } from "../src/errors.js";
import { mapEvent } from "../src/intake/event-to-work.js";
import { enqueueEvent, type QueueEntry } from "../src/intake/queue-store.js";
import { FileSpool, type Spool, type SpoolEntry, type SpooledEvent } from "./spool.js";

export interface DrainResult {
  /** Spool entries handled (queued or dropped) and removed from the spool. */
  drained: number;
  /** Queue files written by this drain (repo-relative). */
  queued: string[];
  /** Queue files that already existed (a redelivery, or a drain interrupted before the spool removal). */
  duplicates: number;
  /** Deliveries dropped because they name no PR prstate holds (e.g. CI on an unknown SHA). */
  ignored: { deliveryId: string; reason: string }[];
}

export interface DrainFailure {
  deliveryId: string;
  message: string;
}

export class DrainError extends PrstateError {
  constructor(
    readonly failures: DrainFailure[],
    readonly result: DrainResult,
  ) {
    const shown = failures.slice(0, 5).map((f) => `${f.deliveryId}: ${f.message}`).join("; ");
    super(`spool drain: ${failures.length} deliver${failures.length === 1 ? "y" : "ies"} failed (${shown}${failures.length > 5 ? "; ..." : ""})`);
  }
}

export interface DrainOptions {
  /** Replaces the FileSpool on spoolDir. */
  spool?: Spool;
  log?: (line: string) => void;
  /** Deliveries handled at once (each costs a few fsyncs). Default 8. */
  concurrency?: number;
}

// repository_dispatch puts its free-form event_type in `action`; the queue only keeps names.
const ACTION_RE = /^[A-Za-z0-9_.-]{1,100}$/;

function queueEntries(ev: SpooledEvent, prs: number[], kind: QueueEntry["kind"], shas: string[]): QueueEntry[] {
  return prs.map((pr) => {
    const e: QueueEntry = { deliveryId: ev.deliveryId, event: ev.event, receivedAt: ev.receivedAt, pr, kind };
    if (ev.action !== undefined && ACTION_RE.test(ev.action)) e.action = ev.action;
    if (shas[0] !== undefined) e.sha = shas[0];
    return e;
  });
}

export async function drainSpool(spoolDir: string, repo: string, shaIndex: ReadonlyMap<string, number>, options: DrainOptions = {}): Promise<DrainResult> {
  const spool = options.spool ?? new FileSpool(spoolDir);
  const log = options.log ?? (() => undefined);
  const result: DrainResult = { drained: 0, queued: [], duplicates: 0, ignored: [] };
  const failures: DrainFailure[] = [];

  const handle = async (entry: SpoolEntry): Promise<void> => {
    let ev: SpooledEvent;
    try {
      ev = await spool.read(entry);
    } catch (err) {
      if (err instanceof DataError) {
        // Unreadable: set aside (kept for a person) so it does not fail every later drain.
        await spool.reject(entry);
        failures.push({ deliveryId: entry.deliveryId, message: `${errorMessage(err)} (moved aside)` });
        return;
      }
      throw err;
    }
    const work = mapEvent(ev.event, ev.payload, shaIndex);
    if ("ignored" in work) {
      log(`dropped ${ev.deliveryId}: ${work.ignored}`);
      result.ignored.push({ deliveryId: ev.deliveryId, reason: work.ignored });
    } else {
      for (const entryForPr of queueEntries(ev, work.prs, work.kind, work.shas)) {
        const { path, stored } = await enqueueEvent(repo, entryForPr);
        if (stored) result.queued.push(path);
        else result.duplicates++;
      }
    }
    // Only now, with the queue files durable, may the spool copy go.
    await spool.remove(entry);
    result.drained++;
  };

  const entries = await spool.list();
  let next = 0;
  const worker = async () => {
    while (next < entries.length) {
      const entry = entries[next++]!;
      try {
        await handle(entry);
      } catch (err) {
        failures.push({ deliveryId: entry.deliveryId, message: errorMessage(err) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 8) }, worker));
  // Deliveries were handled concurrently: sort, so a report reads the same every run.
  result.queued.sort();
  result.ignored.sort((a, b) => a.deliveryId.localeCompare(b.deliveryId));
  failures.sort((a, b) => a.deliveryId.localeCompare(b.deliveryId));
  if (failures.length > 0) throw new DrainError(failures, result);
  return result;
}
