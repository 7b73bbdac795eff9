// The simulator's primary rate limit: one bucket per resource ("core" for REST, "graphql"),
// counted down per request and refilled when its window ends, reported in the
// x-ratelimit-* headers GitHub sends on every response. Windows run on the real clock
// because the client's throttling compares x-ratelimit-reset with the machine's time.

export type Resource = "core" | "graphql";

export interface BucketState {
  limit: number;
  remaining: number;
  used: number;
  /** Epoch milliseconds when the window ends. */
  resetMs: number;
}

export class RateLimitBuckets {
  private readonly buckets = new Map<Resource, BucketState>();

  constructor(
    private readonly limit = 5000,
    private readonly windowMs = 3_600_000,
  ) {}

  state(resource: Resource): BucketState {
    let b = this.buckets.get(resource);
    if (!b || Date.now() >= b.resetMs) {
      b = { limit: this.limit, remaining: this.limit, used: 0, resetMs: Date.now() + this.windowMs };
      this.buckets.set(resource, b);
    }
    return b;
  }

  /** Spends `cost` points; false (nothing spent) when the bucket cannot pay. */
  take(resource: Resource, cost: number): boolean {
    const b = this.state(resource);
    if (b.remaining < cost) return false;
    b.remaining -= cost;
    b.used += cost;
    return true;
  }

  /** Empties a bucket until `resetInMs` from now. */
  exhaust(resource: Resource, resetInMs: number): void {
    const b = this.state(resource);
    b.used += b.remaining;
    b.remaining = 0;
    b.resetMs = Date.now() + resetInMs;
  }

  headers(resource: Resource): Record<string, string> {
    const b = this.state(resource);
    return {
      "x-ratelimit-limit": String(b.limit),
      "x-ratelimit-remaining": String(b.remaining),
      "x-ratelimit-reset": String(Math.ceil(b.resetMs / 1000)),
      "x-ratelimit-used": String(b.used),
      "x-ratelimit-resource": resource,
    };
  }
}
