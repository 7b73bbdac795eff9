// What the rest of prstate may ask of GitHub. The sync cycle, the integrity checks and the
// webhook tools depend on this interface only; `createGitHub` (client.ts) implements it over
// HTTP, and every failure it throws is one of the GitHubError subclasses of src/errors.ts.

/** One PR as the REST pulls listing reports it. */
export interface PullSummary {
  number: number;
  state: "open" | "closed";
  /** GitHub's `updated_at`, as sent (`2024-12-16T11:03:37Z`). */
  updatedAt: string;
  headSha: string;
  draft: boolean;
  title: string;
  labels: string[];
  baseRef: string;
  /** True when `merged_at` is set (bors merges show as closed, not merged). */
  merged?: boolean;
}

/**
 * A listing walked back to a watermark. `complete` is false when `maxPages` stopped the walk
 * before it reached `since` (or, without `since`, when more pages existed): PRs updated in the
 * gap were not seen, so a watermark must not move past the oldest `updatedAt` listed.
 */
export interface PullListing extends Array<PullSummary> {
  complete: boolean;
}

export interface RateLimitInfo {
  remaining: number;
  limit: number;
  resetAt: Date;
  /** "core" (REST) or "graphql", from `x-ratelimit-resource`. */
  resource: string;
}

export interface HookSummary {
  id: number;
  events: string[];
  active: boolean;
}

export interface HookDelivery {
  id: number;
  guid: string;
  deliveredAt: string;
  /** GitHub's status text ("OK", "Invalid HTTP Response: 503", ...). */
  status: string;
  /** HTTP status the receiver answered (0 when it could not be reached). */
  statusCode: number;
  event: string;
  action: string | null;
  redelivery: boolean;
}

export interface FullPrDocs {
  /** The `PrInfo` response as GitHub returned it (`{"data":{"repository":{"pullRequest":...}}}`), without `data.rateLimit`. */
  prInfo: unknown;
  /** The `PrReactions` response, same form. */
  reactions: unknown;
  /** `updatedAt` of the PR in `prInfo`. */
  updatedAt: string;
}

export interface BasicPrDocs {
  /** The `BasicPrInfo` response, same form as `prInfo`. */
  basic: unknown;
  updatedAt: string;
}

export interface GitHub {
  /** "OWNER/NAME" of the tracked repository. */
  readonly repository: string;
  /** Full query then reactions query for one PR. */
  fetchFull(pr: number): Promise<FullPrDocs>;
  /** The reduced query used for stubborn PRs. */
  fetchBasic(pr: number): Promise<BasicPrDocs>;
  /**
   * REST `pulls?state=all&sort=updated&direction=desc&per_page=100`, page after page until an
   * item is older than `since` (by instant; items updated exactly at `since` are included) or
   * the pages run out. Newest first, each PR once. `since` undefined: the first page only.
   */
  listUpdatedSince(since: string | undefined, opts?: { maxPages?: number }): Promise<PullListing>;
  /** Every open PR (REST `pulls?state=open`, all pages), each once. */
  listOpenPulls(): Promise<PullSummary[]>;
  /**
   * The last rate-limit state seen in any response (headers, or a GraphQL `rateLimit` field).
   * Without `resource`: the resource with the fewest requests left.
   */
  rateLimit(resource?: "core" | "graphql"): RateLimitInfo | undefined;
  /** Repository webhooks (`GET /repos/{o}/{r}/hooks`). */
  listHooks(): Promise<HookSummary[]>;
  /** Recent deliveries of one repository hook, newest first (cursor pagination). */
  listDeliveries(hookId: number, opts?: { perPage?: number; maxPages?: number }): Promise<HookDelivery[]>;
  /** Asks GitHub to redeliver one delivery (`POST .../deliveries/{id}/attempts`); never retried. */
  redeliver(hookId: number, deliveryId: number): Promise<void>;
  /** Adds labels to a PR; never retried. */
  addLabels(pr: number, labels: string[]): Promise<void>;
  /** Removes one label; a label that is not there (404) counts as removed. Never retried. */
  removeLabel(pr: number, label: string): Promise<void>;
}
