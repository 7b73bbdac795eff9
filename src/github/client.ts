// The GitHub client: @octokit/rest with the throttling and retry plugins (DESIGN section 7).
// One instance per run, created by `createGitHub` and passed to whoever needs it (never a
// module global), so tests point it at the simulator and nothing leaks between runs.
//
// Who retries what:
// - rate limits (primary: x-ratelimit-remaining 0; secondary: "secondary rate limit" message,
//   403 or 429): the throttling plugin, which honours Retry-After / x-ratelimit-reset. A wait
//   is logged and never reported as a failure; a wait longer than `maxRateLimitWaitMs` is
//   not attempted and surfaces as RateLimitError(resetAt) so the cycle can stop cleanly.
// - 5xx, timeouts, dropped connections: the retry plugin, `retries` times with growing pauses.
// - 4xx, and writes (labels, redeliveries): never retried.
import Bottleneck from "bottleneck";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import { ConfigError, InputError, NotFoundError, redact, registerSecret } from "../errors.js";
import { prNumber } from "../layout.js";
import type { BasicPrDocs, FullPrDocs, GitHub, HookDelivery, HookSummary, PullListing, PullSummary, RateLimitInfo } from "./github.js";
import { checkPullRequestResponse, type PullRequestResponse } from "./graphql-response.js";
import { asArray, toHookDelivery, toPullSummary } from "./pull-summary.js";
import { OPERATION_NAMES, queryText, type QueryKind } from "./queries.js";
import { RateLimitTracker } from "./rate-limit-tracker.js";
import { PauseGate, createTimedFetch } from "./timed-fetch.js";
import { isTimeout, wrapGitHubError } from "./wrap-error.js";

export type { BasicPrDocs, FullPrDocs, GitHub, HookDelivery, HookSummary, PullListing, PullSummary, RateLimitInfo } from "./github.js";

export interface GitHubClientOptions {
  /** "OWNER/NAME" of the tracked repository. */
  repository: string;
  /** Registered as a secret: it never appears in a log line or an error message. */
  token?: string;
  /** REST base URL. Default: GITHUB_API_URL, else https://api.github.com. GraphQL goes to `${apiUrl}/graphql` (GHES: /api/graphql). */
  apiUrl?: string;
  /** Deadline of one HTTP attempt, headers and body. Default 60000. */
  requestTimeoutMs?: number;
  /** Extra attempts after a 5xx, a timeout or a dropped connection. Default 2. */
  retries?: number;
  /** Pause before retry k is k² times this. Default 1000. */
  retryBaseDelayMs?: number;
  /** How many times one request may wait out a rate limit. Default 3. */
  rateLimitRetries?: number;
  /** Longest rate-limit wait the client sits through; longer ones throw RateLimitError. Default 300000. */
  maxRateLimitWaitMs?: number;
  /** Wait after a secondary rate limit that came without Retry-After. Default 60000 (GitHub's advice). */
  secondaryRateLimitWaitMs?: number;
  /** Minimum spacing of GraphQL and write requests (throttling plugin's practice). Default 1000. */
  minWriteIntervalMs?: number;
  /** Receives warnings and rate-limit waits, one line each, already redacted. */
  log?: (line: string) => void;
  now?: () => number;
}

// The plugin order matters: throttling sits closest to the wire, retry wraps it.
const ThrottledOctokit = Octokit.plugin(throttling, retry);

const REPOSITORY = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/;

export function createGitHub(opts: GitHubClientOptions): GitHub {
  return new OctokitGitHub(opts);
}

type ApiResponse = { data: unknown; headers: Record<string, string | number | undefined> };

class OctokitGitHub implements GitHub {
  readonly repository: string;
  private readonly owner: string;
  private readonly repo: string;
  private readonly octokit: InstanceType<typeof ThrottledOctokit>;
  private readonly graphqlBase: string;
  private readonly tracker = new RateLimitTracker();
  private readonly gate = new PauseGate();
  private readonly now: () => number;
  private readonly log: (line: string) => void;

  constructor(opts: GitHubClientOptions) {
    const m = REPOSITORY.exec(opts.repository ?? "");
    if (!m) throw new ConfigError(`repository must be OWNER/NAME, got ${JSON.stringify(String(opts.repository))}`);
    this.repository = opts.repository;
    this.owner = m[1]!;
    this.repo = m[2]!;
    registerSecret(opts.token);
    this.now = opts.now ?? Date.now;
    const sink = opts.log ?? (() => {});
    this.log = (line) => sink(redact(line));

    const apiUrl = (opts.apiUrl ?? process.env.GITHUB_API_URL ?? "https://api.github.com").replace(/\/+$/, "");
    if (!/^https?:\/\/[^\s]+$/.test(apiUrl)) throw new ConfigError(`the API URL must be http(s)://..., got ${JSON.stringify(apiUrl)}`);
    this.graphqlBase = apiUrl.replace(/\/api\/v3$/, "/api");

    const rateLimitRetries = opts.rateLimitRetries ?? 3;
    const maxWaitMs = opts.maxRateLimitWaitMs ?? 300_000;
    const onLimit = (secondary: boolean) => (retryAfter: number, options: { method?: string; url?: string }, _o: unknown, retryCount: number) =>
      this.decideWait(secondary, retryAfter * 1000, `${options.method} ${options.url}`, retryCount, rateLimitRetries, maxWaitMs);

    this.octokit = new ThrottledOctokit({
      auth: opts.token,
      baseUrl: apiUrl,
      userAgent: "prstate",
      request: {
        fetch: createTimedFetch({
          timeoutMs: opts.requestTimeoutMs ?? 60_000,
          gate: this.gate,
          onResponse: (attempt, get) => {
            this.tracker.observeHeaders(get);
            if (attempt.status! >= 500) this.log(`github: ${attempt.method} ${attempt.path}: ${attempt.status} after ${attempt.ms} ms`);
          },
          onFailure: (attempt, err) => this.log(`github: ${attempt.method} ${attempt.path}: ${failureText(err)} after ${attempt.ms} ms`),
        }),
      },
      // Octokit's per-request error lines are replaced by the attempt lines above and by typed errors.
      log: { debug: () => {}, info: () => {}, warn: (m: string) => this.log(`github: ${m}`), error: () => {} },
      retry: {
        retries: opts.retries ?? 2,
        retryAfterBaseValue: opts.retryBaseDelayMs ?? 1000,
        // 429 is a rate limit: the throttling plugin decides about it, honouring Retry-After.
        doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451],
      },
      throttle: {
        id: "prstate",
        fallbackSecondaryRateRetryAfter: (opts.secondaryRateLimitWaitMs ?? 60_000) / 1000,
        write: new Bottleneck.Group({ maxConcurrent: 1, minTime: opts.minWriteIntervalMs ?? 1000 }),
        onRateLimit: onLimit(false),
        onSecondaryRateLimit: onLimit(true),
      },
    });
  }

  // Returning true makes the throttling plugin resend the request after `waitMs`. A secondary
  // limit is about this client's request rate, so every other request waits as well; a primary
  // limit is per resource and only the requests that hit it wait.
  private decideWait(secondary: boolean, waitMs: number, what: string, retryCount: number, maxRetries: number, maxWaitMs: number): boolean {
    const kind = secondary ? "secondary rate limit" : "rate limit";
    const secs = `${(waitMs / 1000).toFixed(1)} s`;
    if (retryCount >= maxRetries) {
      this.log(`github: ${kind} on ${what}; gave up after ${retryCount} waits`);
      return false;
    }
    if (waitMs > maxWaitMs) {
      this.log(`github: ${kind} on ${what}; reset in ${secs} is beyond the ${(maxWaitMs / 1000).toFixed(1)} s wait limit, not waiting`);
      return false;
    }
    if (secondary) this.gate.pauseFor(waitMs);
    this.log(`github: ${kind} on ${what}; waiting ${secs} (wait ${retryCount + 1} of ${maxRetries}, not a failure)`);
    return true;
  }

  async fetchFull(pr: number): Promise<FullPrDocs> {
    const n = prNumber(pr);
    const info = await this.graphql("full", n);
    const reactions = await this.graphql("reactions", n);
    return { prInfo: info.doc, reactions: reactions.doc, updatedAt: info.updatedAt };
  }

  async fetchBasic(pr: number): Promise<BasicPrDocs> {
    const basic = await this.graphql("basic", prNumber(pr));
    return { basic: basic.doc, updatedAt: basic.updatedAt };
  }

  private async graphql(kind: QueryKind, pr: number): Promise<PullRequestResponse> {
    const operationName = OPERATION_NAMES[kind];
    const context = `GitHub ${operationName} query for PR #${pr}`;
    let response: ApiResponse;
    try {
      response = await this.octokit.request("POST /graphql", {
        baseUrl: this.graphqlBase,
        query: queryText(kind),
        operationName,
        variables: { owner: this.owner, repo: this.repo, prNumber: pr },
      });
    } catch (err) {
      throw wrapGitHubError(err, context, this.now);
    }
    const checked = checkPullRequestResponse(response.data, pr, context);
    this.tracker.observeGraphqlField(checked.rateLimit);
    return checked;
  }

  async listUpdatedSince(since: string | undefined, opts: { maxPages?: number } = {}): Promise<PullListing> {
    let sinceMs: number | undefined;
    if (since !== undefined) {
      sinceMs = Date.parse(since);
      if (Number.isNaN(sinceMs)) throw new InputError(`not a time: ${JSON.stringify(since)}`);
    }
    const maxPages = since === undefined ? 1 : opts.maxPages ?? Infinity;
    const context = `GitHub pulls listing updated since ${since ?? "(first page)"}`;
    const first = () =>
      this.octokit.rest.pulls.list({ owner: this.owner, repo: this.repo, state: "all", sort: "updated", direction: "desc", per_page: 100 });
    const out: PullSummary[] = [];
    const seen = new Set<number>();
    let cut = false;
    walk: for await (const page of this.pages(first, context)) {
      for (const item of page.items) {
        const pull = toPullSummary(item, context);
        if (sinceMs !== undefined && Date.parse(pull.updatedAt) < sinceMs) break walk;
        // A PR updated during the walk moves to page 1 and pushes the others down: duplicates, not gaps.
        if (!seen.has(pull.number)) out.push(pull);
        seen.add(pull.number);
      }
      if (page.index + 1 >= maxPages) {
        cut = page.hasNext;
        break;
      }
    }
    return Object.assign(out, { complete: !cut });
  }

  async listOpenPulls(): Promise<PullSummary[]> {
    const context = "GitHub open pulls listing";
    const first = () => this.octokit.rest.pulls.list({ owner: this.owner, repo: this.repo, state: "open", per_page: 100 });
    const byNumber = new Map<number, PullSummary>();
    for await (const page of this.pages(first, context)) {
      for (const item of page.items) {
        const pull = toPullSummary(item, context);
        if (!byNumber.has(pull.number)) byNumber.set(pull.number, pull);
      }
    }
    return [...byNumber.values()];
  }

  rateLimit(resource?: "core" | "graphql"): RateLimitInfo | undefined {
    return this.tracker.get(resource);
  }

  async listHooks(): Promise<HookSummary[]> {
    const context = "GitHub repository hooks listing";
    const first = () => this.octokit.rest.repos.listWebhooks({ owner: this.owner, repo: this.repo, per_page: 100 });
    const hooks: HookSummary[] = [];
    for await (const page of this.pages(first, context)) {
      for (const item of page.items) {
        const h = item as { id?: unknown; events?: unknown; active?: unknown };
        if (typeof h.id !== "number") continue;
        hooks.push({ id: h.id, events: Array.isArray(h.events) ? h.events.map(String) : [], active: h.active === true });
      }
    }
    return hooks;
  }

  async listDeliveries(hookId: number, opts: { perPage?: number; maxPages?: number } = {}): Promise<HookDelivery[]> {
    const hook_id = positiveId(hookId, "hook id");
    const context = `GitHub deliveries listing of hook ${hook_id}`;
    const perPage = Math.min(Math.max(opts.perPage ?? 100, 1), 100);
    const maxPages = opts.maxPages ?? 10;
    const first = () => this.octokit.rest.repos.listWebhookDeliveries({ owner: this.owner, repo: this.repo, hook_id, per_page: perPage });
    const out: HookDelivery[] = [];
    for await (const page of this.pages(first, context)) {
      for (const item of page.items) out.push(toHookDelivery(item, context));
      if (page.index + 1 >= maxPages) break;
    }
    return out;
  }

  async redeliver(hookId: number, deliveryId: number): Promise<void> {
    const hook_id = positiveId(hookId, "hook id");
    const delivery_id = positiveId(deliveryId, "delivery id");
    const context = `GitHub redelivery of delivery ${delivery_id} (hook ${hook_id})`;
    await this.write(context, () =>
      this.octokit.rest.repos.redeliverWebhookDelivery({ owner: this.owner, repo: this.repo, hook_id, delivery_id, request: { retries: 0 } }),
    );
  }

  async addLabels(pr: number, labels: string[]): Promise<void> {
    const issue_number = prNumber(pr);
    if (labels.length === 0) return;
    await this.write(`GitHub adding labels to PR #${issue_number}`, () =>
      this.octokit.rest.issues.addLabels({ owner: this.owner, repo: this.repo, issue_number, labels, request: { retries: 0 } }),
    );
  }

  async removeLabel(pr: number, label: string): Promise<void> {
    const issue_number = prNumber(pr);
    try {
      await this.write(`GitHub removing label ${JSON.stringify(label)} from PR #${issue_number}`, () =>
        this.octokit.rest.issues.removeLabel({ owner: this.owner, repo: this.repo, issue_number, name: label, request: { retries: 0 } }),
      );
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }

  private async write(context: string, send: () => Promise<unknown>): Promise<void> {
    try {
      await send();
    } catch (err) {
      throw wrapGitHubError(err, context, this.now);
    }
  }

  /**
   * Pages of a REST listing, following `Link: rel="next"` (page numbers or cursors alike).
   * Each page must be a JSON array: a body cut off in transit is a MalformedResponseError,
   * not an empty page (octokit's own paginator turns some of those into `[]`).
   */
  private async *pages(
    first: () => Promise<ApiResponse>,
    context: string,
  ): AsyncGenerator<{ items: unknown[]; hasNext: boolean; index: number }> {
    let next: string | undefined;
    for (let index = 0; ; index++) {
      let response: ApiResponse;
      try {
        response = index === 0 ? await first() : await this.octokit.request({ method: "GET", url: next! });
      } catch (err) {
        throw wrapGitHubError(err, context, this.now);
      }
      const items = asArray(response.data, context);
      next = nextLink(response.headers.link);
      yield { items, hasNext: next !== undefined, index };
      if (next === undefined) return;
    }
  }
}

function failureText(err: unknown): string {
  if (isTimeout(err)) return "no answer within the request timeout";
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  return `connection failed (${String(cause?.code ?? cause?.message ?? (err as Error)?.message ?? err)})`;
}

function nextLink(link: string | number | undefined): string | undefined {
  return /<([^<>]+)>;\s*rel="next"/.exec(String(link ?? ""))?.[1];
}

function positiveId(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new InputError(`not a ${what}: ${JSON.stringify(value)}`);
  return value;
}
