// What polling found, and how far the watermark may move (DESIGN 6.3). Pure.
//
// Polling lists PRs by `updated` descending back to the watermark. A listed PR is a "hit"
// when the data repo has no valid record of it or the record is older than GitHub's
// `updatedAt`. The watermark is the instant up to which every update has been committed:
// it moves to the newest listed `updatedAt`, but never past a hit that this cycle did not
// settle (downloaded, or durably listed after a failure), and never past the oldest listed
// PR when the walk stopped early (PRs beyond it were not seen).
import type { PullListing, PullSummary } from "../github/github.js";
import type { PrFacts } from "../state/pr-facts.js";
import { validRecord } from "../state/pr-state.js";

const instant = (iso: string | undefined): number => {
  const t = iso === undefined ? Number.NaN : Date.parse(iso);
  return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
};

/** Listed PRs whose stored record is absent or older than GitHub's updatedAt. */
export function pollHits(listing: readonly PullSummary[], facts: ReadonlyMap<number, PrFacts>): PullSummary[] {
  return listing.filter((p) => {
    const f = facts.get(p.number);
    const record = f ? validRecord(f) : undefined;
    return !record || instant(record.updatedAt) < instant(p.updatedAt);
  });
}

/**
 * The next watermark. `unsettled` are hits this cycle neither committed nor durably listed
 * (deferred by the budget, stopped by the rate-limit reserve, or answered with data older
 * than the listed update). Never moves backwards.
 */
export function nextWatermark(previous: string | undefined, listing: PullListing, unsettled: ReadonlySet<number>): string | undefined {
  if (listing.length === 0) return previous;
  let bound = Math.max(...listing.map((p) => instant(p.updatedAt)));
  if (!listing.complete) bound = Math.min(bound, Math.min(...listing.map((p) => instant(p.updatedAt))));
  for (const p of listing) if (unsettled.has(p.number)) bound = Math.min(bound, instant(p.updatedAt));
  if (!Number.isFinite(bound)) return previous;
  if (previous !== undefined && instant(previous) >= bound) return previous;
  return new Date(bound).toISOString().replace(/\.000Z$/, "Z");
}
