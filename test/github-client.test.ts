// The GitHub client against the real simulator over HTTP on 127.0.0.1: recorded documents
// come back unchanged, polling walks back to the watermark and no further, and every kind
// of failure arrives as exactly one typed error (with waits for rate limits, bounded
// retries for 5xx/timeouts, and the token nowhere in any message or log line).
import test, { type ExecutionContext } from "ava";
import { readFileSync } from "node:fs";
import { inspect } from "node:util";
import {
  AuthError,
  GitHubError,
  MalformedResponseError,
  NotFoundError,
  RateLimitError,
  ServerError,
  TimeoutError,
} from "../src/errors.js";
import { createGitHub, type GitHubClientOptions } from "../src/github/client.js";
import { GitHubSimulator, type GitHubSimulatorOptions } from "../src/simulator/github-simulator.js";

const FIXTURES = new URL("../../fixtures/data/", import.meta.url);
const REPOSITORY = "leanprover-community/mathlib4";
const TOKEN = "ghp_TestTokenThatMustNeverLeak0123456789";
const PULLS = "/repos/leanprover-community/mathlib4/pulls";

const fixture = (path: string): unknown => JSON.parse(readFileSync(new URL(path, FIXTURES), "utf8"));

interface Setup {
  sim: GitHubSimulator;
  logs: string[];
  client: (opts?: Partial<GitHubClientOptions>) => ReturnType<typeof createGitHub>;
}

// One simulator per test: tests of a file run concurrently, and faults and counters are per server.
async function setup(t: ExecutionContext, simOpts: GitHubSimulatorOptions = {}): Promise<Setup> {
  const sim = new GitHubSimulator({ token: TOKEN, ...simOpts });
  const url = await sim.start();
  t.teardown(() => sim.stop());
  const logs: string[] = [];
  const client = (opts: Partial<GitHubClientOptions> = {}) =>
    createGitHub({
      repository: REPOSITORY,
      token: TOKEN,
      apiUrl: url,
      minWriteIntervalMs: 0,
      retryBaseDelayMs: 5,
      secondaryRateLimitWaitMs: 300,
      maxRateLimitWaitMs: 5000,
      log: (line) => logs.push(line),
      ...opts,
    });
  return { sim, logs, client };
}

/** Sorted newest first by updatedAt (ties: higher number first, like the simulator). */
function byUpdatedDesc<T extends { updatedAt: string; number: number }>(items: T[]): T[] {
  return [...items].sort((a, b) => Date.parse(b.updatedAt) - Date.parse(a.updatedAt) || b.number - a.number);
}

test.serial("fetchFull returns the recorded pr_info and pr_reactions documents unchanged", async (t) => {
  const { sim, client } = await setup(t);
  const gh = client();
  for (const pr of [20000, 23000, 23100, 19055, 15000, 10014, 1388]) {
    const got = await gh.fetchFull(pr);
    t.deepEqual(got.prInfo, fixture(`${pr}/pr_info.json`), `pr_info of #${pr}`);
    const reactions = fixture(`${pr}/pr_reactions.json`) as { data: { repository: { pullRequest: Record<string, unknown> } } };
    // The reactions query asks for updatedAt as an addition; everything else is as recorded.
    reactions.data.repository.pullRequest.updatedAt = got.updatedAt;
    t.deepEqual(got.reactions, reactions, `pr_reactions of #${pr}`);
    const info = fixture(`${pr}/pr_info.json`) as { data: { repository: { pullRequest: { updatedAt: string } } } };
    t.is(got.updatedAt, info.data.repository.pullRequest.updatedAt);
  }
  t.is(sim.requests.full, 7);
  t.is(sim.requests.reactions, 7);
});

test.serial("fetchBasic returns recorded basic documents; on a full PR it is the basic query's cut of pr_info", async (t) => {
  const { client } = await setup(t);
  const gh = client();
  for (const pr of [4197, 11976, 12234]) {
    const got = await gh.fetchBasic(pr);
    t.deepEqual(got.basic, fixture(`${pr}-basic/basic_pr_info.json`), `basic_pr_info of #${pr}`);
  }
  const basic = (await gh.fetchBasic(23100)).basic as { data: { repository: { pullRequest: Record<string, unknown> } } };
  const full = (fixture("23100/pr_info.json") as { data: { repository: { pullRequest: Record<string, unknown> } } }).data.repository.pullRequest;
  const b = basic.data.repository.pullRequest;
  // 11976-basic was recorded with the current basic query: same fields, same order.
  t.deepEqual(Object.keys(b), keysOf11976());
  for (const key of ["title", "updatedAt", "labels", "body", "files", "isDraft", "state", "statusCheckRollup", "comments"]) t.deepEqual(b[key], full[key], key);
  t.deepEqual(b.reviews, { nodes: (full.reviews as { nodes: Record<string, unknown>[] }).nodes.map(({ id, state, author, submittedAt }) => ({ id, state, author, submittedAt })) });
});

function keysOf11976(): string[] {
  const doc = fixture("11976-basic/basic_pr_info.json") as { data: { repository: { pullRequest: Record<string, unknown> } } };
  return Object.keys(doc.data.repository.pullRequest);
}

test.serial("every GraphQL answer's rateLimit field and the x-ratelimit headers are tracked, and the field is not stored", async (t) => {
  const { client } = await setup(t, { rateLimit: { limit: 300 } });
  const gh = client();
  t.is(gh.rateLimit("graphql"), undefined);
  const docs = await gh.fetchFull(20000);
  t.false("rateLimit" in (docs.prInfo as { data: object }).data);
  t.false("rateLimit" in (docs.reactions as { data: object }).data);
  const graphql = gh.rateLimit("graphql")!;
  t.is(graphql.remaining, 298);
  t.is(graphql.limit, 300);
  t.true(graphql.resetAt.getTime() > Date.now());
  await gh.listOpenPulls();
  t.is(gh.rateLimit("core")!.remaining, 299);
  t.is(gh.rateLimit()!.resource, "graphql", "without a resource: the one with fewest requests left");
});

test.serial("listUpdatedSince walks back across pages to the watermark, includes PRs updated exactly at it, and stops", async (t) => {
  const { sim, client } = await setup(t, { generate: 260, seed: 7 });
  const gh = client();
  const ordered = byUpdatedDesc(sim.prs());
  t.true(ordered.length > 250);
  const since = ordered[150]!.updatedAt;
  // Another PR updated at exactly the watermark instant must be listed too.
  sim.update(ordered[200]!.number, { bumpUpdatedAt: since });
  const expected = byUpdatedDesc(sim.prs()).filter((p) => Date.parse(p.updatedAt) >= Date.parse(since));
  sim.resetCounters();
  // The watermark may be written with milliseconds: the comparison is by instant.
  const listing = await gh.listUpdatedSince(since.replace("Z", ".000Z"));
  t.deepEqual(
    listing.map((p) => p.number),
    expected.map((p) => p.number),
  );
  t.true(listing.complete);
  t.is(sim.requests.restPages, 2, "pages 1 and 2 reach the watermark; page 3 is never asked for");
  const first = listing[0]!;
  const sim0 = sim.get(first.number)!;
  t.deepEqual(first, {
    number: sim0.number,
    state: sim0.state,
    updatedAt: sim0.updatedAt,
    headSha: sim0.headSha,
    draft: sim0.draft,
    title: sim0.title,
    labels: sim0.labels,
    baseRef: sim0.baseRef,
    merged: sim0.merged,
  });
});

test.serial("listUpdatedSince without a watermark reads one page; maxPages marks a cut listing incomplete", async (t) => {
  const { sim, client } = await setup(t, { generate: 260, seed: 8 });
  const gh = client();
  const firstPage = await gh.listUpdatedSince(undefined);
  t.is(firstPage.length, 100);
  t.false(firstPage.complete);
  t.is(sim.requests.restPages, 1);
  const oldest = byUpdatedDesc(sim.prs()).at(-1)!.updatedAt;
  const cut = await gh.listUpdatedSince(oldest, { maxPages: 2 });
  t.is(cut.length, 200);
  t.false(cut.complete);
  const all = await gh.listUpdatedSince(oldest);
  t.is(all.length, sim.prs().length);
  t.true(all.complete);
});

test.serial("a PR updated while the listing is walked shifts the pages: no PR is listed twice", async (t) => {
  const { sim, client } = await setup(t, { generate: 260, seed: 9 });
  const gh = client();
  const ordered = byUpdatedDesc(sim.prs());
  const since = ordered[250]!.updatedAt;
  const moved = ordered[220]!.number;
  // The update lands when page 2 is asked for: the moved PR jumps to page 1 (already read)
  // and the last PR of page 1 slides onto page 2.
  sim.fault({ path: PULLS, kind: "slow", delayMs: 1, after: 1, times: 1, onHit: () => sim.update(moved, { title: "changed during the walk" }) });
  const listing = await gh.listUpdatedSince(since);
  t.is(sim.requests.restPages, 3);
  const numbers = listing.map((p) => p.number);
  t.is(new Set(numbers).size, numbers.length);
  const before = ordered.filter((p) => Date.parse(p.updatedAt) >= Date.parse(since) && p.number !== moved).map((p) => p.number);
  t.deepEqual([...numbers].sort(), [...before].sort(), "everything but the moved PR (whose update the next poll sees)");
});

test.serial("listOpenPulls returns every open PR across pages", async (t) => {
  const { sim, client } = await setup(t, { generate: 300, seed: 3 });
  const open = sim.prs().filter((p) => p.state === "open");
  t.true(open.length > 100, "more than one page");
  const listed = await client().listOpenPulls();
  t.deepEqual(listed.map((p) => p.number).sort(), open.map((p) => p.number).sort());
  t.true(listed.every((p) => p.state === "open"));
  t.true(sim.requests.restPages >= 2);
});

test.serial("a bad token is an AuthError; 403 without rate-limit signals is an AuthError too", async (t) => {
  const { sim, client } = await setup(t);
  const wrong = client({ token: "ghp_WrongTokenAlsoSecret00000000000" });
  await t.throwsAsync(wrong.fetchFull(20000), { instanceOf: AuthError });
  await t.throwsAsync(wrong.listOpenPulls(), { instanceOf: AuthError });
  await t.throwsAsync(client({ token: undefined }).fetchBasic(20000), { instanceOf: AuthError });
  t.is(sim.requests.unauthorized, 3, "401 is never retried");
  sim.fault({ path: PULLS, kind: "status", status: 403, body: { message: "Resource not accessible by integration" } });
  const err = await t.throwsAsync(client().listOpenPulls(), { instanceOf: AuthError });
  t.is(err.status, 403);
});

test.serial("an unknown PR or repository is a NotFoundError (GraphQL NOT_FOUND and REST 404), not retried", async (t) => {
  const { sim, client } = await setup(t);
  await t.throwsAsync(client().fetchFull(99999), { instanceOf: NotFoundError });
  await t.throwsAsync(client().fetchBasic(99999), { instanceOf: NotFoundError });
  t.is(sim.requests.full + sim.requests.basic, 2);
  const other = client({ repository: "someone/elsewhere" });
  await t.throwsAsync(other.listOpenPulls(), { instanceOf: NotFoundError });
  await t.throwsAsync(other.fetchFull(20000), { instanceOf: NotFoundError });
});

test.serial("a 502 is retried a bounded number of times, then a ServerError; a PR recorded only as basic 502s on the full query", async (t) => {
  const { sim, client } = await setup(t);
  sim.fault({ pr: 20000, query: "full", kind: "server-error", delayMs: 50 });
  const err = await t.throwsAsync(client({ retries: 2 }).fetchFull(20000), { instanceOf: ServerError });
  t.is(err.status, 502);
  t.is(sim.requestsFor(20000).full, 3, "first attempt + 2 retries");
  t.is(sim.requestsFor(20000).reactions, 0);
  await t.throwsAsync(client({ retries: 0 }).fetchFull(4197), { instanceOf: ServerError });
  t.truthy(await client().fetchBasic(4197));
  // A 502 that clears up on the retry is a success.
  sim.fault({ pr: 23000, query: "full", kind: "server-error", times: 1 });
  t.truthy(await client().fetchFull(23000));
  t.is(sim.requestsFor(23000).full, 2);
});

test.serial("a body cut off in the middle is a MalformedResponseError, for GraphQL and for REST pages", async (t) => {
  const { sim, client } = await setup(t);
  sim.fault({ pr: 19055, query: "full", kind: "truncate" });
  await t.throwsAsync(client().fetchFull(19055), { instanceOf: MalformedResponseError });
  sim.fault({ path: PULLS, kind: "truncate" });
  await t.throwsAsync(client().listOpenPulls(), { instanceOf: MalformedResponseError });
  await t.throwsAsync(client().listUpdatedSince(undefined), { instanceOf: MalformedResponseError });
});

test.serial("GraphQL errors and answers without data.repository.pullRequest are MalformedResponseError", async (t) => {
  const { sim, client } = await setup(t);
  sim.fault({ pr: 20000, query: "full", kind: "status", status: 200, body: { data: { repository: null } }, times: 1 });
  await t.throwsAsync(client().fetchFull(20000), { instanceOf: MalformedResponseError });
  sim.fault({ pr: 20000, query: "basic", kind: "status", status: 200, body: { errors: [{ message: "Field 'x' doesn't exist" }] }, times: 1 });
  await t.throwsAsync(client().fetchBasic(20000), { instanceOf: MalformedResponseError });
});

test.serial("no answer within requestTimeoutMs is a TimeoutError after the bounded retries; a dropped connection is retried", async (t) => {
  const { sim, client } = await setup(t);
  sim.fault({ pr: 23100, query: "full", kind: "slow", delayMs: 2000 });
  const started = Date.now();
  await t.throwsAsync(client({ requestTimeoutMs: 150, retries: 1 }).fetchFull(23100), { instanceOf: TimeoutError });
  t.true(Date.now() - started < 1500, "gave up at the deadline, did not wait for the slow answer");
  t.is(sim.requestsFor(23100).full, 2);
  sim.clearFaults();
  sim.fault({ pr: 23100, kind: "drop", times: 1 });
  sim.fault({ pr: 23100, kind: "drop", partial: true, times: 1 });
  t.truthy(await client({ retries: 2 }).fetchFull(23100));
  sim.fault({ pr: 23100, kind: "drop" });
  await t.throwsAsync(client({ retries: 1 }).fetchFull(23100), { instanceOf: ServerError });
});

test.serial("a connection closed before the request was read is retried", async (t) => {
  const { sim, client } = await setup(t);
  sim.dropConnections(1);
  const docs = await client({ requestTimeoutMs: 400, retries: 2 }).fetchBasic(11976);
  t.deepEqual(docs.basic, fixture("11976-basic/basic_pr_info.json"));
  t.is(sim.requests.basic, 1, "the dropped attempt never reached the server");
});

test.serial("429 with Retry-After is waited out (logged, not a failure) and then succeeds", async (t) => {
  const { sim, logs, client } = await setup(t);
  sim.fault({ pr: 20000, query: "full", kind: "secondary-rate-limit", status: 429, retryAfter: 1, times: 1 });
  const started = Date.now();
  const docs = await client().fetchFull(20000);
  const elapsed = Date.now() - started;
  t.deepEqual(docs.prInfo, fixture("20000/pr_info.json"));
  t.true(elapsed >= 950, `waited ${elapsed} ms for Retry-After: 1`);
  t.is(sim.requestsFor(20000).full, 2);
  t.true(logs.some((l) => /secondary rate limit.*waiting 1\.0 s/.test(l)), logs.join("\n"));
});

test.serial("a secondary limit without Retry-After waits the configured fallback and holds back the other requests", async (t) => {
  const { sim, client } = await setup(t);
  const gh = client({ secondaryRateLimitWaitMs: 800 });
  sim.fault({ pr: 20000, query: "full", kind: "secondary-rate-limit", times: 1 });
  const started = Date.now();
  const full = gh.fetchFull(20000);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const listStarted = Date.now();
  const open = await gh.listOpenPulls();
  t.true(Date.now() - listStarted >= 500, "the listing waited for the pause too");
  t.true(open.length > 0);
  await full;
  t.true(Date.now() - started >= 780);
});

test.serial("a rate limit that resets later than maxRateLimitWaitMs is a RateLimitError with the reset time, at once", async (t) => {
  const { sim, client } = await setup(t);
  sim.fault({ pr: 20000, query: "full", kind: "secondary-rate-limit", retryAfter: 120 });
  const started = Date.now();
  const err = await t.throwsAsync(client({ maxRateLimitWaitMs: 2000 }).fetchFull(20000), { instanceOf: RateLimitError });
  t.true(Date.now() - started < 1000);
  t.true(Math.abs(err.resetAt!.getTime() - (Date.now() + 120_000)) < 5000);
  sim.clearFaults();
  sim.rateLimitExhausted({ resetInMs: 3_600_000 });
  const gql = await t.throwsAsync(client().fetchFull(20000), { instanceOf: RateLimitError });
  t.true(gql.resetAt!.getTime() > Date.now() + 3_000_000);
  const rest = await t.throwsAsync(client().listOpenPulls(), { instanceOf: RateLimitError });
  t.is(rest.status, 403);
});

test.serial("an exhausted primary limit that resets soon is waited out", async (t) => {
  const { sim, client } = await setup(t);
  sim.rateLimitExhausted({ resource: "graphql", resetInMs: 500 });
  const docs = await client().fetchBasic(11976);
  t.deepEqual(docs.basic, fixture("11976-basic/basic_pr_info.json"));
});

test.serial("the token appears in no error message, error object or log line", async (t) => {
  const { sim, logs, client } = await setup(t);
  const wrongToken = "ghp_AnotherSecretTokenValue987654321";
  const errors: unknown[] = [];
  const collect = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (err) {
      errors.push(err);
    }
  };
  sim.fault({ pr: 20000, query: "full", kind: "server-error" });
  sim.fault({ pr: 23000, query: "full", kind: "truncate" });
  sim.fault({ pr: 23100, query: "full", kind: "slow", delayMs: 1000 });
  sim.fault({ pr: 19055, kind: "drop" });
  await collect(client({ retries: 1 }).fetchFull(20000));
  await collect(client().fetchFull(23000));
  await collect(client({ requestTimeoutMs: 100, retries: 0 }).fetchFull(23100));
  await collect(client({ retries: 0 }).fetchFull(19055));
  await collect(client().fetchFull(424242));
  await collect(client({ token: wrongToken }).listOpenPulls());
  await collect(client({ token: wrongToken }).fetchBasic(20000));
  t.is(errors.length, 7);
  for (const err of errors) {
    t.true(err instanceof GitHubError);
    const text = `${String(err)} ${(err as Error).stack} ${inspect(err, { depth: Infinity })} ${JSON.stringify(err)}`;
    t.false(text.includes(TOKEN), `token in ${(err as Error).name}`);
    t.false(text.includes(wrongToken), `wrong token in ${(err as Error).name}`);
  }
  t.true(logs.length > 0);
  for (const line of logs) t.false(line.includes(TOKEN) || line.includes(wrongToken), line);
});

test.serial("webhook deliveries: hooks, cursor-paginated deliveries, redelivery asks (never retried)", async (t) => {
  const { sim, client } = await setup(t);
  const gh = client();
  const hooks = await gh.listHooks();
  t.is(hooks.length, 1);
  t.true(hooks[0]!.active);
  t.true(hooks[0]!.events.includes("pull_request"));
  const deliveries = await gh.listDeliveries(hooks[0]!.id, { perPage: 2 });
  t.is(deliveries.length, 6, "three pages of two");
  t.is(sim.requests.deliveries, 3);
  t.deepEqual(
    deliveries.map((d) => d.id),
    [...deliveries.map((d) => d.id)].sort((a, b) => b - a),
    "newest first",
  );
  const failed = deliveries.filter((d) => d.statusCode < 200 || d.statusCode >= 300);
  t.is(failed.length, 3);
  t.is((await gh.listDeliveries(hooks[0]!.id, { perPage: 2, maxPages: 1 })).length, 2);
  for (const d of failed) await gh.redeliver(hooks[0]!.id, d.id);
  t.deepEqual(
    sim.webhooks.redeliveryRequests.map((r) => r.deliveryId),
    failed.map((d) => d.id),
  );
  const after = await gh.listDeliveries(hooks[0]!.id);
  t.is(after.filter((d) => d.redelivery).length, 3);
  await t.throwsAsync(gh.redeliver(hooks[0]!.id, 12345), { instanceOf: NotFoundError });
  sim.fault({ path: "*", method: "POST", kind: "server-error" });
  sim.resetCounters();
  await t.throwsAsync(gh.redeliver(hooks[0]!.id, failed[0]!.id), { instanceOf: ServerError });
  t.is(sim.requests.redeliveries, 1, "a write is not retried");
});

test.serial("labels: added and removed on the PR; removing an absent label is fine", async (t) => {
  const { sim, client } = await setup(t);
  const gh = client();
  sim.clock.set("2030-01-01T00:00:00Z");
  await gh.addLabels(20000, ["awaiting-CI", "t-combinatorics"]);
  t.deepEqual(sim.get(20000)!.labels, ["t-combinatorics", "awaiting-CI"]);
  t.is(sim.get(20000)!.updatedAt, "2030-01-01T00:00:00Z");
  await gh.removeLabel(20000, "t-combinatorics");
  await gh.removeLabel(20000, "not-there");
  t.deepEqual(sim.get(20000)!.labels, ["awaiting-CI"]);
  const listed = (await gh.listOpenPulls()).find((p) => p.number === 20000)!;
  t.deepEqual(listed.labels, ["awaiting-CI"]);
  const full = (await gh.fetchFull(20000)).prInfo as { data: { repository: { pullRequest: { labels: { nodes: { name: string }[] } } } } };
  t.deepEqual(
    full.data.repository.pullRequest.labels.nodes.map((l) => l.name),
    ["awaiting-CI"],
  );
});

test.serial("bad arguments are refused before any request", async (t) => {
  const { sim, client } = await setup(t);
  const gh = client();
  await t.throwsAsync(gh.fetchFull(-1), { message: /not a PR number/ });
  await t.throwsAsync(gh.listUpdatedSince("yesterday"), { message: /not a time/ });
  t.throws(() => client({ repository: "no-slash" }), { message: /OWNER\/NAME/ });
  t.is(sim.requests.total, 0);
});
