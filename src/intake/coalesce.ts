// Per-PR coalescing of queued events (DESIGN 6.2). Pure.
//
// Every queued event of one PR becomes ONE work item: a burst of 40 events on a PR costs one
// download, because the worker fetches the PR's current state, which answers all of them.
// For the same reason order and duplicates of events never matter here.
//
// Debounce: while a PR keeps receiving events it is likely to receive more (a review with
// ten comments, a push followed by CI), so a PR whose newest event is younger than the
// window waits, and the download after the burst is the one that counts ("the last request
// wins"). A PR that never goes quiet would wait forever, so once its OLDEST event has waited
// `maxWaitFactor` windows it is ready regardless.
import type { FetchKind } from "./event-to-work.js";
import type { QueuedItem } from "./queue-store.js";

export interface WorkItem {
  pr: number;
  /** "full" when any of its events needs the full query. */
  kind: FetchKind;
  /** Queue files this item consumes, sorted: delete them in the commit that writes its data. */
  paths: string[];
  /** Delivery ids covered (distinct, sorted), for logs and commit trailers. */
  deliveryIds: string[];
  /** Distinct `event.action` keys, sorted, e.g. for the commit's Prstate-Reason. */
  reasons: string[];
  /** Receive time of the oldest and newest event (ISO-8601). */
  firstAt: string;
  lastAt: string;
}

export interface CoalesceResult {
  /** Items to download now, PRs that have waited longest first. */
  ready: WorkItem[];
  /** Items still inside their debounce window (leave their queue files alone). */
  waiting: WorkItem[];
}

export interface CoalesceOptions {
  /** A PR waits at most this many debounce windows from its oldest event. Default 5. */
  maxWaitFactor?: number;
}

export const DEFAULT_MAX_WAIT_FACTOR = 5;

export function coalesce(items: readonly QueuedItem[], now: Date, debounceSeconds: number, options: CoalesceOptions = {}): CoalesceResult {
  const nowMs = now.getTime();
  const windowMs = Math.max(0, debounceSeconds) * 1000;
  const maxWaitMs = windowMs * (options.maxWaitFactor ?? DEFAULT_MAX_WAIT_FACTOR);

  // A receive time that does not parse, or lies further in the future than any PR may wait
  // (a skewed clock on the receiver's host), counts as old: such a hint is handled now
  // rather than held back indefinitely.
  const timeOf = (iso: string): number => {
    const t = Date.parse(iso);
    return Number.isNaN(t) || t - nowMs > maxWaitMs ? Number.NEGATIVE_INFINITY : t;
  };

  const byPr = new Map<number, QueuedItem[]>();
  for (const item of items) {
    const list = byPr.get(item.pr);
    if (list) list.push(item);
    else byPr.set(item.pr, [item]);
  }

  const ready: WorkItem[] = [];
  const waiting: WorkItem[] = [];
  const firstMs = new Map<WorkItem, number>();
  for (const [pr, events] of byPr) {
    let first = Number.POSITIVE_INFINITY;
    let last = Number.NEGATIVE_INFINITY;
    let firstAt = events[0]!.receivedAt;
    let lastAt = events[0]!.receivedAt;
    for (const e of events) {
      const t = timeOf(e.receivedAt);
      if (t < first || (t === first && e.receivedAt < firstAt)) [first, firstAt] = [t, e.receivedAt];
      if (t > last || (t === last && e.receivedAt > lastAt)) [last, lastAt] = [t, e.receivedAt];
    }
    const work: WorkItem = {
      pr,
      kind: events.some((e) => e.kind !== "basic") ? "full" : "basic",
      paths: [...new Set(events.map((e) => e.path))].sort(),
      deliveryIds: [...new Set(events.map((e) => e.deliveryId))].sort(),
      reasons: [...new Set(events.map((e) => (e.action ? `${e.event}.${e.action}` : e.event)))].sort(),
      firstAt,
      lastAt,
    };
    firstMs.set(work, first);
    const quietFor = nowMs - last;
    const waitedFor = nowMs - first;
    if (quietFor < windowMs && waitedFor < maxWaitMs) waiting.push(work);
    else ready.push(work);
  }
  const byAge = (a: WorkItem, b: WorkItem) => firstMs.get(a)! - firstMs.get(b)! || a.pr - b.pr;
  ready.sort(byAge);
  waiting.sort(byAge);
  return { ready, waiting };
}
