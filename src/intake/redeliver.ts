// `prstate redeliver`: GitHub never retries a failed webhook delivery by itself (DESIGN 6.1).
// This lists the recent deliveries of the repository's hooks and asks GitHub once for each
// delivery that failed and was never delivered successfully since (several attempts of one
// event share its guid; a later successful attempt means the receiver has it). What it asked
// for is remembered in a JSON file, so running it every few minutes never asks twice.
// A failed request to redeliver is not remembered: the next run tries it again.
import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { AuthError, DataError, errorMessage, RateLimitError } from "../errors.js";
import type { GitHub, HookDelivery } from "../github/github.js";
import { fsyncDir } from "../store/atomic-write.js";

/** The part of the GitHub interface this needs (tests implement just these). */
export type DeliveriesApi = Pick<GitHub, "listHooks" | "listDeliveries" | "redeliver">;

export interface RedeliverOptions {
  /** One hook; default: every active hook of the repository. */
  hookId?: number;
  /** Only failures delivered at or after this time are redelivered. */
  since?: Date;
  /** JSON file remembering what was asked for (created when missing). */
  memoryFile: string;
  /** Pages of deliveries read per hook (100 each). Default 5. */
  maxPages?: number;
  now?: Date;
  log?: (line: string) => void;
}

export interface RedeliveryRef {
  hookId: number;
  guid: string;
  deliveryId: number;
  event: string;
  statusCode: number;
}

export interface RedeliverResult {
  hooks: number[];
  /** Redeliveries asked for by this run. */
  asked: RedeliveryRef[];
  /** Failed events already asked for by an earlier run. */
  alreadyAsked: number;
  /** Asks that GitHub refused (tried again next run). */
  failed: (RedeliveryRef & { message: string })[];
}

interface Memory {
  version: 1;
  /** "<hookId>/<guid>" -> when it was asked for (ISO). */
  asked: Record<string, string>;
}

/** GitHub keeps deliveries for a few days; remembering longer than this only grows the file. */
const MEMORY_DAYS = 14;

const ok = (d: HookDelivery) => d.statusCode >= 200 && d.statusCode < 300;

async function readMemory(path: string): Promise<Memory> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { version: 1, asked: {} };
    throw new DataError(`redeliver memory ${path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new DataError(`redeliver memory ${path}: not valid JSON (fix or delete it; deleting may ask for some redeliveries again)`);
  }
  const asked = (doc as Partial<Memory> | null)?.asked;
  if (typeof asked !== "object" || asked === null || Array.isArray(asked) || !Object.values(asked).every((v) => typeof v === "string")) {
    throw new DataError(`redeliver memory ${path}: expected {"version":1,"asked":{...}}`);
  }
  return { version: 1, asked: { ...(asked as Record<string, string>) } };
}

async function writeMemory(path: string, memory: Memory): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const fh = await open(tmp, "w", 0o644);
  try {
    await fh.writeFile(JSON.stringify(memory, null, 2) + "\n");
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fsyncDir(dirname(path));
}

/** Failed events of one hook's deliveries that were never delivered successfully: newest failed attempt per guid. */
export function failedDeliveries(deliveries: readonly HookDelivery[], since?: Date): HookDelivery[] {
  const byGuid = new Map<string, HookDelivery[]>();
  for (const d of deliveries) {
    const list = byGuid.get(d.guid);
    if (list) list.push(d);
    else byGuid.set(d.guid, [d]);
  }
  const out: HookDelivery[] = [];
  for (const attempts of byGuid.values()) {
    if (attempts.some(ok)) continue;
    const candidates = attempts.filter((d) => since === undefined || !(Date.parse(d.deliveredAt) < since.getTime()));
    if (candidates.length === 0) continue;
    candidates.sort((a, b) => Date.parse(b.deliveredAt) - Date.parse(a.deliveredAt) || b.id - a.id);
    out.push(candidates[0]!);
  }
  return out.sort((a, b) => Date.parse(a.deliveredAt) - Date.parse(b.deliveredAt) || a.id - b.id);
}

export async function redeliverFailed(gh: DeliveriesApi, opts: RedeliverOptions): Promise<RedeliverResult> {
  const now = opts.now ?? new Date();
  const log = opts.log ?? (() => undefined);
  const memory = await readMemory(opts.memoryFile);
  const horizon = now.getTime() - MEMORY_DAYS * 86_400_000;
  for (const [k, at] of Object.entries(memory.asked)) if (!(Date.parse(at) >= horizon)) delete memory.asked[k];

  const hooks = opts.hookId !== undefined ? [opts.hookId] : (await gh.listHooks()).filter((h) => h.active).map((h) => h.id);
  const result: RedeliverResult = { hooks, asked: [], alreadyAsked: 0, failed: [] };
  try {
    for (const hookId of hooks) {
      const deliveries = await gh.listDeliveries(hookId, { perPage: 100, maxPages: opts.maxPages ?? 5 });
      for (const d of failedDeliveries(deliveries, opts.since)) {
        const key = `${hookId}/${d.guid}`;
        const ref: RedeliveryRef = { hookId, guid: d.guid, deliveryId: d.id, event: d.action ? `${d.event}.${d.action}` : d.event, statusCode: d.statusCode };
        if (memory.asked[key] !== undefined) {
          result.alreadyAsked++;
          continue;
        }
        try {
          await gh.redeliver(hookId, d.id);
        } catch (err) {
          // A refused token or an exhausted rate limit fails every later ask too: stop.
          if (err instanceof AuthError || err instanceof RateLimitError) throw err;
          result.failed.push({ ...ref, message: errorMessage(err) });
          log(`redeliver ${key} (${ref.event}, was ${d.statusCode}) refused: ${errorMessage(err)}`);
          continue;
        }
        memory.asked[key] = now.toISOString();
        result.asked.push(ref);
        log(`asked to redeliver ${key} (${ref.event}, was ${d.statusCode})`);
        // Remember each ask at once: a crash later in the run must not cause a second ask.
        await writeMemory(opts.memoryFile, memory);
      }
    }
  } finally {
    await writeMemory(opts.memoryFile, memory);
  }
  return result;
}
