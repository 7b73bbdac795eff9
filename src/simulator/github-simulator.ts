// A real HTTP GitHub on 127.0.0.1, speaking the REST and GraphQL subset prstate uses, with
// the recorded fixtures as its data. Tests and `prstate demo` point the real client at it:
// pagination `Link` headers, x-ratelimit-* headers counted down per request, GraphQL errors
// shaped like GitHub's, and injected faults (faults.ts). It is deliberately strict where
// GitHub is (unknown PR, wrong repository, bad token) so client bugs show up here first.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { OPERATION_NAMES, type QueryKind } from "../github/queries.js";
import { FixtureStore, type AddPrOptions, type UpdatePatch } from "./fixture-store.js";
import {
  FaultRegistry,
  faultAnswer,
  rateLimitedAnswer,
  replacesAnswer,
  writeAnswer,
  type Answer,
  type FaultHandle,
  type FaultSpec,
  type RequestFacts,
} from "./faults.js";
import { basicAnswer, reactionsAnswer, type PrDoc, type PrDocs, type SimPrSummary } from "./pr-docs.js";
import { RateLimitBuckets, type BucketState, type Resource } from "./rate-limit-buckets.js";
import { restPull } from "./rest-pull.js";
import { SimClock } from "./sim-clock.js";
import { WebhookDeliveries } from "./webhook-deliveries.js";

export type { FaultHandle, FaultKind, FaultSpec } from "./faults.js";
export type { AddPrOptions, UpdatePatch } from "./fixture-store.js";
export type { PrDocs, SimPrSummary } from "./pr-docs.js";
export type { SimDelivery, SimHook } from "./webhook-deliveries.js";

export interface GitHubSimulatorOptions {
  /** Folder with data/<N>/ and data/<N>-basic/. Default: the package's fixtures/. */
  fixturesDir?: string;
  /** Default "leanprover-community" / "mathlib4", the fixtures' repository. */
  owner?: string;
  repo?: string;
  /** Extra PRs cloned from the fixtures with full data (new numbers, ids, titles, times, head SHAs). */
  generate?: number;
  seed?: number;
  /** When set, requests without `authorization: token <t>` (or `bearer <t>`) get 401. */
  token?: string;
  /** Primary rate limit per resource and window. Default 5000 per hour. */
  rateLimit?: { limit: number; windowMs?: number };
  /** Start of the simulated clock (PR times); the clock then stands still but for `clock.advance`. Default: the real time, running. */
  now?: number | string | Date;
  /** PRs recorded only in basic form answer the full query with 502 after this delay. Default 0. */
  stubbornDelayMs?: number;
  /** Create one repository hook with a few recent deliveries, some failed. Default true. */
  hooks?: boolean;
}

export interface RequestCounters {
  total: number;
  graphql: number;
  full: number;
  basic: number;
  reactions: number;
  /** GET .../pulls listing pages. */
  restPages: number;
  /** GET .../pulls/{n}. */
  restPull: number;
  hooks: number;
  deliveries: number;
  redeliveries: number;
  labels: number;
  unauthorized: number;
  /** Answered "rate limit exceeded" because the bucket was empty. */
  rateLimited: number;
  /** Hit by an injected fault. */
  faulted: number;
}

export interface PrRequestCounts {
  full: number;
  basic: number;
  reactions: number;
}

/** A PR as the simulator would serve it now: summary plus the three documents (without rateLimit). */
export interface SimPrView extends SimPrSummary {
  prInfo?: unknown;
  reactions?: unknown;
  basic: unknown;
}

interface Route {
  facts: RequestFacts;
  resource: Resource;
  run: (headers: Record<string, string>) => Answer | Promise<Answer>;
}

const DEFAULT_FIXTURES = fileURLToPath(new URL("../../../fixtures/", import.meta.url));
const NOT_FOUND_DOC = "https://docs.github.com/rest";
const MAX_BODY = 1 << 20;

export class GitHubSimulator {
  readonly clock: SimClock;
  readonly owner: string;
  readonly repo: string;
  readonly requests: RequestCounters = zeroCounters();
  /** Repository hooks and their deliveries; tests add deliveries and read `redeliveryRequests`. */
  readonly webhooks: WebhookDeliveries;
  private readonly store: FixtureStore;
  private readonly faults = new FaultRegistry();
  private readonly limits: RateLimitBuckets;
  private readonly perPr = new Map<number, PrRequestCounts>();
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  private readonly token: string | undefined;
  private readonly stubbornDelayMs: number;
  private server: Server | undefined;
  private base = "";
  private requestSeq = 0;
  private connectionsToDrop = 0;

  constructor(opts: GitHubSimulatorOptions = {}) {
    this.clock = new SimClock(opts.now);
    this.owner = opts.owner ?? "leanprover-community";
    this.repo = opts.repo ?? "mathlib4";
    this.token = opts.token;
    this.stubbornDelayMs = opts.stubbornDelayMs ?? 0;
    this.limits = new RateLimitBuckets(opts.rateLimit?.limit ?? 5000, opts.rateLimit?.windowMs ?? 3_600_000);
    this.store = new FixtureStore(() => this.clock.now(), opts.seed ?? 1);
    this.store.loadFixtures(opts.fixturesDir ?? DEFAULT_FIXTURES);
    if (opts.generate) this.store.generate(opts.generate);
    this.webhooks = new WebhookDeliveries(() => this.clock.now());
    if (opts.hooks !== false) this.seedDeliveries();
  }

  /** Base URL (`http://127.0.0.1:<port>`), once started. */
  get url(): string {
    if (!this.base) throw new Error("simulator not started");
    return this.base;
  }

  /** Listens on 127.0.0.1 (on a free port unless `port` is given); resolves to the base URL (use it as apiUrl). */
  async start(port = 0): Promise<string> {
    if (this.server) return this.base;
    const server = createServer((req, res) => void this.handle(req, res));
    server.on("connection", (socket) => {
      if (this.connectionsToDrop > 0) {
        this.connectionsToDrop--;
        socket.destroy();
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
    this.server = server;
    this.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.base;
  }

  /** Closes every connection (also those waiting in a slow fault) and stops listening. */
  async stop(): Promise<void> {
    for (const [timer, release] of this.timers) {
      clearTimeout(timer);
      release();
    }
    this.timers.clear();
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  // ---- the repository, for tests and the demo ----

  /** Summaries of every PR, by number. */
  prs(): SimPrSummary[] {
    return this.store.summaries();
  }

  get(n: number): SimPrView | undefined {
    const summary = this.store.summary(n);
    const docs = this.store.docs(n);
    if (!summary || !docs) return undefined;
    return {
      ...summary,
      ...(docs.prInfo ? { prInfo: structuredClone(docs.prInfo), reactions: reactionsAnswer(docs, summary.updatedAt) } : {}),
      basic: basicAnswer(docs),
    };
  }

  /** Changes a PR in every document at once; updatedAt becomes the clock's now unless `bumpUpdatedAt` says otherwise. */
  update(n: number, patch: UpdatePatch): SimPrSummary {
    return this.store.update(n, patch);
  }

  addPr(opts: AddPrOptions = {}): SimPrSummary {
    return this.store.add(opts);
  }

  /** Replaces a PR's recorded documents (e.g. with fixtures/versions/19055/...). */
  replaceDocs(n: number, docs: PrDocs): SimPrSummary {
    return this.store.replaceDocs(n, docs);
  }

  // ---- faults, limits, counters ----

  fault(spec: FaultSpec): FaultHandle {
    return this.faults.add(spec);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  /**
   * Closes the next `count` TCP connections as soon as they are accepted, before any request
   * is read (what an overloaded proxy does). No request is seen, so no counter moves.
   */
  dropConnections(count: number): void {
    this.connectionsToDrop += count;
  }

  /** Empties the primary rate limit of `resource` (default both) until `resetInMs` from now (default an hour). */
  rateLimitExhausted(opts: { resource?: Resource | "all"; resetInMs?: number } = {}): void {
    const resources: Resource[] = opts.resource === undefined || opts.resource === "all" ? ["core", "graphql"] : [opts.resource];
    for (const r of resources) this.limits.exhaust(r, opts.resetInMs ?? 3_600_000);
  }

  rateLimitState(resource: Resource): BucketState {
    return { ...this.limits.state(resource) };
  }

  requestsFor(pr: number): PrRequestCounts {
    return { ...(this.perPr.get(pr) ?? { full: 0, basic: 0, reactions: 0 }) };
  }

  resetCounters(): void {
    Object.assign(this.requests, zeroCounters());
    this.perPr.clear();
  }

  // ---- HTTP ----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = `SIM-${(++this.requestSeq).toString(16).toUpperCase().padStart(6, "0")}`;
    const base: Record<string, string> = {
      "content-type": "application/json; charset=utf-8",
      "x-github-request-id": requestId,
      "x-github-media-type": "github.v3; format=json",
    };
    try {
      this.requests.total++;
      const method = (req.method ?? "GET").toUpperCase();
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const path = url.pathname.replace(/\/+$/, "") || "/";
      if (!this.authorized(req)) {
        this.requests.unauthorized++;
        const headers = { ...base, ...this.limits.headers("core") };
        return writeAnswer(req, res, json(401, headers, { message: "Bad credentials", documentation_url: NOT_FOUND_DOC, status: "401" }), undefined);
      }
      const body = method === "POST" || method === "PATCH" || method === "PUT" ? await readBody(req) : "";
      if (body === undefined) return writeAnswer(req, res, json(413, { ...base, ...this.limits.headers("core") }, { message: "Payload too large" }), undefined);
      const route = this.route(method, path, url.searchParams, body);
      if (route.facts.path !== "/rate_limit" && !this.limits.take(route.resource, 1)) {
        this.requests.rateLimited++;
        return writeAnswer(req, res, rateLimitedAnswer(route.facts, { ...base, ...this.limits.headers(route.resource) }), undefined);
      }
      const headers = { ...base, ...this.limits.headers(route.resource) };
      const fault = this.faults.hit(route.facts);
      if (fault) this.requests.faulted++;
      if (fault?.delayMs) await this.sleep(fault.delayMs);
      const answer = fault && replacesAnswer(fault) ? faultAnswer(fault, route.facts, headers, requestId) : await route.run(headers);
      writeAnswer(req, res, answer, fault);
    } catch (err) {
      if (!res.headersSent && !res.destroyed) writeAnswer(req, res, json(500, base, { message: `simulator error: ${String(err)}` }), undefined);
    }
  }

  private authorized(req: IncomingMessage): boolean {
    if (this.token === undefined) return true;
    const m = /^(token|bearer)\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "");
    return m !== null && m[2] === this.token;
  }

  private route(method: string, path: string, query: URLSearchParams, body: string): Route {
    const facts: RequestFacts = { method, path };
    const core = (run: Route["run"]): Route => ({ facts, resource: "core", run });
    const notFound = core((h) => json(404, h, { message: "Not Found", documentation_url: NOT_FOUND_DOC, status: "404" }));

    if (path === "/graphql" && method === "POST") return this.graphqlRoute(facts, body);
    if (path === "/rate_limit" && method === "GET") return core((h) => json(200, h, this.rateLimitBody()));

    const m = /^\/repos\/([^/]+)\/([^/]+)(\/.*)$/.exec(path);
    if (!m || !this.isOurRepo(m[1]!, m[2]!)) return notFound;
    const rest = m[3]!;
    let r: RegExpExecArray | null;
    if (method === "GET" && rest === "/pulls") {
      this.requests.restPages++;
      return core((h) => this.listPulls(path, query, h));
    }
    if (method === "GET" && (r = /^\/pulls\/(\d+)$/.exec(rest))) {
      this.requests.restPull++;
      const n = Number(r[1]);
      return core((h) => (this.store.has(n) ? json(200, h, this.restPull(n)) : json(404, h, { message: "Not Found", documentation_url: NOT_FOUND_DOC, status: "404" })));
    }
    if (method === "GET" && rest === "/hooks") {
      this.requests.hooks++;
      return core((h) => json(200, h, this.webhooks.hooks()));
    }
    if (method === "GET" && (r = /^\/hooks\/(\d+)\/deliveries$/.exec(rest))) {
      this.requests.deliveries++;
      const hookId = Number(r[1]);
      return core((h) => this.listDeliveries(path, hookId, query, h));
    }
    if (method === "POST" && (r = /^\/hooks\/(\d+)\/deliveries\/(\d+)\/attempts$/.exec(rest))) {
      this.requests.redeliveries++;
      const [hookId, deliveryId] = [Number(r[1]), Number(r[2])];
      return core((h) => (this.webhooks.redeliver(hookId, deliveryId) ? json(202, h, {}) : json(404, h, { message: "Not Found", status: "404" })));
    }
    if (method === "POST" && (r = /^\/issues\/(\d+)\/labels$/.exec(rest))) {
      this.requests.labels++;
      const n = Number(r[1]);
      return core((h) => this.addLabels(n, body, h));
    }
    if (method === "DELETE" && (r = /^\/issues\/(\d+)\/labels\/([^/]+)$/.exec(rest))) {
      this.requests.labels++;
      const [n, name] = [Number(r[1]), decodeURIComponent(r[2]!)];
      return core((h) => this.removeLabel(n, name, h));
    }
    return notFound;
  }

  private isOurRepo(owner: string, repo: string): boolean {
    return decodeURIComponent(owner).toLowerCase() === this.owner.toLowerCase() && decodeURIComponent(repo).toLowerCase() === this.repo.toLowerCase();
  }

  // ---- GraphQL ----

  private graphqlRoute(facts: RequestFacts, body: string): Route {
    this.requests.graphql++;
    let parsed: { query?: unknown; variables?: unknown; operationName?: unknown };
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      return { facts, resource: "graphql", run: (h) => json(400, h, { message: "Problems parsing JSON", documentation_url: "https://docs.github.com/graphql" }) };
    }
    const query = typeof parsed.query === "string" ? parsed.query : "";
    const vars = (typeof parsed.variables === "object" && parsed.variables !== null ? parsed.variables : {}) as Record<string, unknown>;
    const kind = queryKind(query, parsed.operationName);
    const pr = typeof vars.prNumber === "number" ? vars.prNumber : undefined;
    if (kind) {
      this.requests[kind]++;
      if (pr !== undefined) {
        const counts = this.perPr.get(pr) ?? { full: 0, basic: 0, reactions: 0 };
        counts[kind]++;
        this.perPr.set(pr, counts);
      }
    }
    const routed: RequestFacts = { ...facts, ...(pr !== undefined ? { pr } : {}), ...(kind ? { query: kind } : {}) };
    return { facts: routed, resource: "graphql", run: (h) => this.graphqlAnswer(kind, query, vars, routed, h) };
  }

  private async graphqlAnswer(
    kind: QueryKind | undefined,
    query: string,
    vars: Record<string, unknown>,
    facts: RequestFacts,
    headers: Record<string, string>,
  ): Promise<Answer> {
    if (!kind) return json(200, headers, { errors: [{ message: "simulator: this query is not one of prstate's three" }] });
    const bucket = this.limits.state("graphql");
    const extra = /\brateLimit\b/.test(query)
      ? { rateLimit: { cost: 1, remaining: bucket.remaining, resetAt: new Date(Math.ceil(bucket.resetMs / 1000) * 1000).toISOString().replace(/\.000Z$/, "Z") } }
      : {};
    const owner = String(vars.owner ?? ""), repo = String(vars.repo ?? "");
    if (!this.isOurRepo(owner, repo)) {
      return json(200, headers, {
        data: { repository: null, ...extra },
        errors: [{ type: "NOT_FOUND", path: ["repository"], locations: [{ line: 2, column: 3 }], message: `Could not resolve to a Repository with the name '${owner}/${repo}'.` }],
      });
    }
    const n = facts.pr;
    const docs = n === undefined ? undefined : this.store.docs(n);
    const summary = n === undefined ? undefined : this.store.summary(n);
    if (!docs || !summary) {
      return json(200, headers, {
        data: { repository: { pullRequest: null }, ...extra },
        errors: [
          { type: "NOT_FOUND", path: ["repository", "pullRequest"], locations: [{ line: 3, column: 5 }], message: `Could not resolve to a PullRequest with the number of ${String(vars.prNumber)}.` },
        ],
      });
    }
    let doc: PrDoc;
    if (kind === "full") {
      if (!docs.prInfo) {
        // Recorded only in basic form: a stubborn PR, on which GitHub's full query gives up.
        if (this.stubbornDelayMs > 0) await this.sleep(this.stubbornDelayMs);
        return faultAnswer({ kind: "server-error", pr: n }, facts, headers, headers["x-github-request-id"] ?? "");
      }
      doc = docs.prInfo;
    } else {
      doc = kind === "basic" ? basicAnswer(docs) : reactionsAnswer(docs, summary.updatedAt);
    }
    return json(200, headers, { ...doc, data: { ...doc.data, ...extra } });
  }

  // ---- REST ----

  private restPull(n: number): Record<string, unknown> {
    return restPull(this.store.summary(n)!, this.store.body(n), { baseUrl: this.base, owner: this.owner, repo: this.repo });
  }

  private listPulls(path: string, q: URLSearchParams, headers: Record<string, string>): Answer {
    const state = q.get("state") ?? "open";
    const sort = q.get("sort") ?? "created";
    const direction = q.get("direction") ?? (sort === "created" ? "desc" : "asc");
    if (!["open", "closed", "all"].includes(state) || !["created", "updated", "popularity", "long-running"].includes(sort) || !["asc", "desc"].includes(direction)) {
      return json(422, headers, { message: "Validation Failed", documentation_url: NOT_FOUND_DOC, status: "422" });
    }
    const perPage = clampInt(q.get("per_page"), 30, 1, 100);
    const page = clampInt(q.get("page"), 1, 1, Number.MAX_SAFE_INTEGER);
    const key = (s: SimPrSummary) => Date.parse(sort === "updated" ? s.updatedAt : s.createdAt);
    const sign = direction === "asc" ? 1 : -1;
    const all = this.store
      .summaries()
      .filter((s) => state === "all" || s.state === state)
      .sort((a, b) => sign * (key(a) - key(b) || a.number - b.number));
    const items = all.slice((page - 1) * perPage, page * perPage).map((s) => this.restPull(s.number));
    const link = linkHeader(`${this.base}${path}`, q, page, Math.max(1, Math.ceil(all.length / perPage)));
    return json(200, link ? { ...headers, link } : headers, items);
  }

  private listDeliveries(path: string, hookId: number, q: URLSearchParams, headers: Record<string, string>): Answer {
    const all = this.webhooks.list(hookId);
    if (!all) return json(404, headers, { message: "Not Found", documentation_url: NOT_FOUND_DOC, status: "404" });
    const perPage = clampInt(q.get("per_page"), 30, 1, 100);
    const cursor = q.get("cursor");
    const from = cursor === null ? all : all.filter((d) => d.id < Number(cursor));
    const items = from.slice(0, perPage);
    const headersOut = { ...headers };
    if (from.length > perPage) {
      const next = new URLSearchParams(q);
      next.set("per_page", String(perPage));
      next.set("cursor", String(items[items.length - 1]!.id));
      headersOut.link = `<${this.base}${path}?${next}>; rel="next"`;
    }
    return json(200, headersOut, items);
  }

  private addLabels(n: number, body: string, headers: Record<string, string>): Answer {
    const summary = this.store.summary(n);
    if (!summary) return json(404, headers, { message: "Not Found", documentation_url: NOT_FOUND_DOC, status: "404" });
    let names: unknown;
    try {
      const parsed = JSON.parse(body) as unknown;
      names = Array.isArray(parsed) ? parsed : (parsed as { labels?: unknown }).labels;
    } catch {
      names = undefined;
    }
    if (!Array.isArray(names) || !names.every((x) => typeof x === "string" && x.length > 0)) {
      return json(422, headers, { message: "Invalid request.", documentation_url: NOT_FOUND_DOC, status: "422" });
    }
    const labels = [...new Set([...summary.labels, ...(names as string[])])];
    if (labels.length !== summary.labels.length) this.store.update(n, { labels });
    return json(200, headers, this.restPull(n).labels);
  }

  private removeLabel(n: number, name: string, headers: Record<string, string>): Answer {
    const summary = this.store.summary(n);
    if (!summary || !summary.labels.includes(name)) {
      return json(404, headers, { message: summary ? "Label does not exist" : "Not Found", documentation_url: NOT_FOUND_DOC, status: "404" });
    }
    this.store.update(n, { labels: summary.labels.filter((l) => l !== name) });
    return json(200, headers, this.restPull(n).labels);
  }

  private rateLimitBody(): unknown {
    const r = (resource: Resource) => {
      const b = this.limits.state(resource);
      return { limit: b.limit, used: b.used, remaining: b.remaining, reset: Math.ceil(b.resetMs / 1000) };
    };
    return { resources: { core: r("core"), graphql: r("graphql") }, rate: r("core") };
  }

  private seedDeliveries(): void {
    const hook = this.webhooks.addHook();
    const at = (minutesAgo: number) => new Date(this.clock.now() - minutesAgo * 60_000).toISOString().replace(/\.\d{3}Z$/, "Z");
    this.webhooks.add(hook.id, { event: "pull_request", action: "synchronize", statusCode: 202, deliveredAt: at(50) });
    this.webhooks.add(hook.id, { event: "issue_comment", action: "created", statusCode: 502, deliveredAt: at(40) });
    this.webhooks.add(hook.id, { event: "pull_request", action: "labeled", statusCode: 202, deliveredAt: at(30) });
    this.webhooks.add(hook.id, { event: "check_suite", action: "completed", statusCode: 0, deliveredAt: at(20) });
    this.webhooks.add(hook.id, { event: "pull_request_review", action: "submitted", statusCode: 503, deliveredAt: at(10) });
    this.webhooks.add(hook.id, { event: "status", action: null, statusCode: 202, deliveredAt: at(5) });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.set(timer, resolve);
    });
  }
}

/** Which of prstate's queries a request is: by operation name, else by the fields it selects. */
export function queryKind(query: string, operationName?: unknown): QueryKind | undefined {
  const name = typeof operationName === "string" ? operationName : /^\s*query\s+([A-Za-z_][A-Za-z0-9_]*)/m.exec(query)?.[1];
  for (const [kind, op] of Object.entries(OPERATION_NAMES)) if (op === name) return kind as QueryKind;
  if (!/pullRequest\s*\(/.test(query)) return undefined;
  if (/\bcommits\s*\(/.test(query)) return "full";
  if (/\breactionGroups\b/.test(query)) return "reactions";
  return "basic";
}

function json(status: number, headers: Record<string, string>, body: unknown): Answer {
  return { status, headers: { ...headers, "content-type": "application/json; charset=utf-8" }, body: JSON.stringify(body) };
}

function linkHeader(url: string, q: URLSearchParams, page: number, last: number): string | undefined {
  const at = (p: number) => {
    const params = new URLSearchParams(q);
    params.set("page", String(p));
    return `<${url}?${params}>`;
  };
  const parts: string[] = [];
  if (page > 1) parts.push(`${at(page - 1)}; rel="prev"`);
  if (page < last) parts.push(`${at(page + 1)}; rel="next"`, `${at(last)}; rel="last"`);
  if (page > 1) parts.push(`${at(1)}; rel="first"`);
  return parts.length ? parts.join(", ") : undefined;
}

function clampInt(value: string | null, fallback: number, min: number, max: number): number {
  const n = value === null ? fallback : Number.parseInt(value, 10);
  return Number.isFinite(n) ? Math.min(Math.max(n, min), max) : fallback;
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function zeroCounters(): RequestCounters {
  return {
    total: 0,
    graphql: 0,
    full: 0,
    basic: 0,
    reactions: 0,
    restPages: 0,
    restPull: 0,
    hooks: 0,
    deliveries: 0,
    redeliveries: 0,
    labels: 0,
    unauthorized: 0,
    rateLimited: 0,
    faulted: 0,
  };
}
