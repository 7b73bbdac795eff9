// Remembers the rate-limit state GitHub reported last, per resource, so the sync cycle can
// stop at its reserve using the API's own numbers (DESIGN section 3) instead of guessing.
import type { RateLimitInfo } from "./github.js";

type HeaderGetter = (name: string) => string | null | undefined;

export class RateLimitTracker {
  private readonly byResource = new Map<string, RateLimitInfo>();

  /** Reads `x-ratelimit-*` headers of one response; responses without them change nothing. */
  observeHeaders(get: HeaderGetter): void {
    const remaining = toInt(get("x-ratelimit-remaining"));
    const limit = toInt(get("x-ratelimit-limit"));
    const reset = toInt(get("x-ratelimit-reset"));
    if (remaining === undefined || limit === undefined || reset === undefined) return;
    const resource = get("x-ratelimit-resource") || "core";
    this.byResource.set(resource, { remaining, limit, resetAt: new Date(reset * 1000), resource });
  }

  /** Reads the `rateLimit { cost remaining resetAt }` field of a GraphQL response. */
  observeGraphqlField(field: unknown): void {
    if (typeof field !== "object" || field === null) return;
    const { remaining, resetAt } = field as { remaining?: unknown; resetAt?: unknown };
    if (typeof remaining !== "number" || typeof resetAt !== "string" || Number.isNaN(Date.parse(resetAt))) return;
    const known = this.byResource.get("graphql");
    // The field has no `limit`; keep the one the headers gave, else the documented default.
    const limit = Math.max(known?.limit ?? 5000, remaining);
    this.byResource.set("graphql", { remaining, limit, resetAt: new Date(resetAt), resource: "graphql" });
  }

  get(resource?: string): RateLimitInfo | undefined {
    if (resource !== undefined) return copy(this.byResource.get(resource));
    let lowest: RateLimitInfo | undefined;
    for (const info of this.byResource.values()) if (!lowest || info.remaining < lowest.remaining) lowest = info;
    return copy(lowest);
  }
}

function toInt(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

function copy(info: RateLimitInfo | undefined): RateLimitInfo | undefined {
  return info && { ...info, resetAt: new Date(info.resetAt.getTime()) };
}
