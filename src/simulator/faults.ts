// Fault injection: what goes wrong, for which requests, how many times, and how it looks
// on the wire. The kinds are the failures a PR dashboard's workflows meet on github.com:
// secondary rate limits (403 or 429, with or without Retry-After), an exhausted primary
// limit, a 502 after a long wait on PRs with very many commits, bodies cut off halfway,
// slow answers and dropped connections.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { QueryKind } from "../github/queries.js";

export type FaultKind = "secondary-rate-limit" | "rate-limit" | "server-error" | "status" | "truncate" | "slow" | "drop";

export interface FaultSpec {
  kind: FaultKind;
  /** GraphQL requests about this PR (all three queries, or only `query`). */
  pr?: number;
  query?: QueryKind;
  /** Requests whose path (no query string) matches: a RegExp, an exact path, or a prefix ending in `*`. */
  path?: string | RegExp;
  /** Only this method (GET, POST, ...). */
  method?: string;
  /**
   * `status`: the status to answer. `server-error`: default 502. `secondary-rate-limit`: 403
   * (default) or 429. `rate-limit` (primary, x-ratelimit-remaining 0): REST 403 by default,
   * GraphQL 200 with a RATE_LIMITED error by default, as GitHub documents.
   */
  status?: number;
  /** Retry-After header, in seconds (rate-limit kinds). */
  retryAfter?: number;
  /** Wait this long before answering (any kind: `slow` is only this; a 502 "after a delay"). */
  delayMs?: number;
  /** `status`: the JSON body to send. */
  body?: unknown;
  /** `drop`: send the headers and part of the body before closing the connection. */
  partial?: boolean;
  /** How many matching requests it hits. Default "always". */
  times?: number | "always";
  /** Matching requests that pass untouched before it starts hitting. Default 0. */
  after?: number;
  /**
   * Called when the fault hits, before the answer is computed: lets a test change the
   * repository at an exact moment (a PR updated while a listing is walked or a download is in flight).
   */
  onHit?: (req: RequestFacts) => void;
}

export interface FaultHandle {
  readonly spec: Readonly<FaultSpec>;
  /** Requests it has hit so far. */
  readonly hits: number;
  /** False once `times` is used up or after `clear()`. */
  readonly active: boolean;
  clear(): void;
}

/** What the server knows about a request when it asks for a fault. */
export interface RequestFacts {
  method: string;
  path: string;
  pr?: number;
  query?: QueryKind;
}

/** An answer before it is written: faults replace it or spoil its delivery. */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

class Fault implements FaultHandle {
  hits = 0;
  private seen = 0;
  private cleared = false;
  constructor(readonly spec: Readonly<FaultSpec>) {}

  get active(): boolean {
    const times = this.spec.times ?? "always";
    return !this.cleared && (times === "always" || this.hits < times);
  }

  clear(): void {
    this.cleared = true;
  }

  matches(req: RequestFacts): boolean {
    const s = this.spec;
    if (s.method !== undefined && s.method.toUpperCase() !== req.method) return false;
    if (s.pr !== undefined && s.pr !== req.pr) return false;
    if (s.query !== undefined && s.query !== req.query) return false;
    if (s.path !== undefined && !pathMatches(s.path, req.path)) return false;
    return true;
  }

  /** Counts a matching request; true when this one is hit. */
  take(): boolean {
    this.seen++;
    if (this.seen <= (this.spec.after ?? 0)) return false;
    this.hits++;
    return true;
  }
}

function pathMatches(pattern: string | RegExp, path: string): boolean {
  if (pattern instanceof RegExp) return pattern.test(path);
  return pattern.endsWith("*") ? path.startsWith(pattern.slice(0, -1)) : path === pattern;
}

export class FaultRegistry {
  private faults: Fault[] = [];

  add(spec: FaultSpec): FaultHandle {
    if (spec.pr === undefined && spec.path === undefined && spec.method === undefined && spec.query === undefined) {
      throw new Error("fault: give a target (pr, query, path or method)");
    }
    const fault = new Fault({ ...spec });
    this.faults.push(fault);
    return fault;
  }

  clear(): void {
    for (const f of this.faults) f.clear();
    this.faults = [];
  }

  /** The first active fault that hits this request, if any (earlier faults take precedence). */
  hit(req: RequestFacts): FaultSpec | undefined {
    this.faults = this.faults.filter((f) => f.active);
    for (const f of this.faults) {
      if (f.matches(req) && f.take()) {
        f.spec.onHit?.(req);
        return f.spec;
      }
    }
    return undefined;
  }
}

/** True for the kinds that answer instead of the handler (the request has no effect). */
export function replacesAnswer(fault: FaultSpec): boolean {
  return fault.kind === "secondary-rate-limit" || fault.kind === "rate-limit" || fault.kind === "server-error" || fault.kind === "status";
}

const SECONDARY_DOC = "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits";
const PRIMARY_DOC = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api";

/** The answer GitHub gives in place of the real one, for the replacing kinds. */
export function faultAnswer(fault: FaultSpec, req: RequestFacts, headers: Record<string, string>, requestId: string): Answer {
  const h: Record<string, string> = { ...headers, "content-type": "application/json; charset=utf-8" };
  const json = (status: number, body: unknown): Answer => ({ status, headers: h, body: JSON.stringify(body) });
  if (fault.retryAfter !== undefined) h["retry-after"] = String(fault.retryAfter);
  switch (fault.kind) {
    case "secondary-rate-limit":
      return json(fault.status ?? 403, {
        message: `You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID ${requestId}.`,
        documentation_url: SECONDARY_DOC,
        status: String(fault.status ?? 403),
      });
    case "rate-limit": {
      const resetS = Math.ceil(Date.now() / 1000) + (fault.retryAfter ?? 60);
      h["x-ratelimit-remaining"] = "0";
      h["x-ratelimit-reset"] = String(resetS);
      return rateLimitedAnswer(req, h, fault.status);
    }
    case "server-error":
      return req.path === "/graphql"
        ? json(fault.status ?? 502, {
            data: null,
            errors: [
              {
                message: `Something went wrong while executing your query. This may be the result of a timeout, or it could be a GitHub bug. Please include \`${requestId}\` when reporting this issue.`,
              },
            ],
          })
        : json(fault.status ?? 502, { message: "Server Error" });
    case "status":
      return json(fault.status ?? 500, fault.body ?? { message: `simulated status ${fault.status ?? 500}` });
    default:
      throw new Error(`fault ${fault.kind} does not replace the answer`);
  }
}

/** The primary rate limit answer: REST 403/429, GraphQL 200 with RATE_LIMITED (as GitHub documents). */
export function rateLimitedAnswer(req: RequestFacts, headers: Record<string, string>, status?: number): Answer {
  const h = { ...headers, "content-type": "application/json; charset=utf-8" };
  if (req.path === "/graphql") {
    return {
      status: status ?? 200,
      headers: h,
      body: JSON.stringify({ errors: [{ type: "RATE_LIMITED", message: "API rate limit already exceeded for user ID 1." }] }),
    };
  }
  return {
    status: status ?? 403,
    headers: h,
    body: JSON.stringify({ message: "API rate limit exceeded for user ID 1.", documentation_url: PRIMARY_DOC, status: String(status ?? 403) }),
  };
}

/**
 * Writes `answer`, spoiled by `fault` when it is a transport fault: `truncate` sends the first
 * half of the body and ends the response cleanly (valid headers, JSON cut in the middle);
 * `drop` closes the connection (before the headers, or halfway with `partial`).
 */
export function writeAnswer(req: IncomingMessage, res: ServerResponse, answer: Answer, fault: FaultSpec | undefined): void {
  if (res.destroyed) return;
  const body = Buffer.from(answer.body);
  if (fault?.kind === "drop") {
    if (fault.partial) {
      res.writeHead(answer.status, { ...answer.headers, "content-length": String(body.length) });
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => req.socket.destroy());
    } else {
      req.socket.destroy();
    }
    return;
  }
  if (fault?.kind === "truncate") {
    res.writeHead(answer.status, answer.headers);
    res.end(body.subarray(0, Math.floor(body.length / 2)));
    return;
  }
  res.writeHead(answer.status, { ...answer.headers, "content-length": String(body.length) });
  res.end(body);
}
