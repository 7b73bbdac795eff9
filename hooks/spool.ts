// The receiver's spool: accepted deliveries wait here (`<spool>/<delivery>.json`) until a
// drain moves them into a data repo's queue. The receiver never touches git: a push or
// merge can take seconds, GitHub gives a delivery 10. The file name comes from the delivery
// id, so a delivery received twice (redelivery, several hooks) is stored once.
//
// There is no claim step: draining is idempotent (queue files are named by delivery id too),
// so two drains of one spool at worst both enqueue an event, which stores it once.
import { mkdir, readdir, readFile, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { DataError } from "../src/errors.js";
import { deliveryFileStem } from "../src/intake/delivery-id.js";
import { createFileAtomic, fsyncDir } from "../src/store/atomic-write.js";

export interface SpooledEvent {
  deliveryId: string;
  event: string;
  action?: string;
  /** When the receiver accepted it (ISO-8601 UTC): the queue's receivedAt, and so the debounce clock. */
  receivedAt: string;
  /** The payload reduced to what mapEvent reads (see reducePayload). */
  payload: Record<string, unknown>;
}

export interface SpoolEntry {
  deliveryId: string;
  /** File name inside the spool. */
  name: string;
}

/** Storage for accepted deliveries. The receiver only needs `write`; tests substitute slow ones. */
export interface Spool {
  /** Stores durably; resolves only once the event is on disk. "duplicate": already stored. */
  write(event: SpooledEvent): Promise<"stored" | "duplicate">;
  /** Stored deliveries, oldest name order (not meaningful: events are hints). */
  list(): Promise<SpoolEntry[]>;
  read(entry: SpoolEntry): Promise<SpooledEvent>;
  /** Deletes a drained delivery; a missing one is fine. */
  remove(entry: SpoolEntry): Promise<void>;
  /** Sets aside a delivery that cannot be read, so it stops failing every drain but is kept for a person to look at. */
  reject(entry: SpoolEntry): Promise<void>;
}

function parseSpooled(text: string, name: string): SpooledEvent {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new DataError(`spool file ${name}: not valid JSON`);
  }
  const d = doc as Partial<SpooledEvent> | null;
  if (typeof d !== "object" || d === null || typeof d.deliveryId !== "string" || typeof d.event !== "string" || typeof d.receivedAt !== "string") {
    throw new DataError(`spool file ${name}: missing deliveryId, event or receivedAt`);
  }
  const payload = typeof d.payload === "object" && d.payload !== null && !Array.isArray(d.payload) ? d.payload : {};
  const out: SpooledEvent = { deliveryId: d.deliveryId, event: d.event, receivedAt: d.receivedAt, payload };
  if (typeof d.action === "string") out.action = d.action;
  return out;
}

/** Sub-folder of a FileSpool holding rejected (unreadable) deliveries. */
export const REJECTED_DIR = "rejected";

/** The spool on a local folder (created on first write). */
export class FileSpool implements Spool {
  constructor(readonly dir: string) {}

  async write(event: SpooledEvent): Promise<"stored" | "duplicate"> {
    const name = `${deliveryFileStem(event.deliveryId)}.json`;
    return (await createFileAtomic(join(this.dir, name), JSON.stringify(event) + "\n")) ? "stored" : "duplicate";
  }

  async list(): Promise<SpoolEntry[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
    return names
      .filter((n) => n.endsWith(".json") && !n.startsWith("."))
      .sort()
      .map((name) => ({ name, deliveryId: name.slice(0, -".json".length) }));
  }

  async read(entry: SpoolEntry): Promise<SpooledEvent> {
    return parseSpooled(await readFile(join(this.dir, entry.name), "utf8"), entry.name);
  }

  async remove(entry: SpoolEntry): Promise<void> {
    try {
      await unlink(join(this.dir, entry.name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      return;
    }
    await fsyncDir(this.dir);
  }

  async reject(entry: SpoolEntry): Promise<void> {
    await mkdir(join(this.dir, REJECTED_DIR), { recursive: true });
    await rename(join(this.dir, entry.name), join(this.dir, REJECTED_DIR, entry.name));
    await fsyncDir(join(this.dir, REJECTED_DIR));
    await fsyncDir(this.dir);
  }
}
