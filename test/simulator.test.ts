// The GitHub simulator over plain HTTP (fetch, no client library): Link pagination,
// rate-limit headers, GraphQL answers and their NOT_FOUND shape, the mutation API keeping
// REST and all three documents consistent, generated PRs, and the fault kinds on the wire.
import test, { type ExecutionContext } from "ava";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { queryText } from "../src/github/queries.js";
import { parseSelection, project } from "../src/simulator/graphql-projection.js";
import { GitHubSimulator, queryKind, type GitHubSimulatorOptions } from "../src/simulator/github-simulator.js";

const FIXTURES = new URL("../../fixtures/", import.meta.url);
const PULLS = "/repos/leanprover-community/mathlib4/pulls";
const VARS = { owner: "leanprover-community", repo: "mathlib4" };

type Doc = { data: { repository: { pullRequest: Record<string, any> } } & Record<string, unknown> };
const fixture = (path: string): Doc => JSON.parse(readFileSync(new URL(path, FIXTURES), "utf8")) as Doc;

async function started(t: ExecutionContext, opts: GitHubSimulatorOptions = {}): Promise<GitHubSimulator> {
  const sim = new GitHubSimulator(opts);
  await sim.start();
  t.teardown(() => sim.stop());
  return sim;
}

async function graphql(sim: GitHubSimulator, kind: "full" | "basic" | "reactions", prNumber: number, query = queryText(kind)) {
  const res = await fetch(`${sim.url}/graphql`, { method: "POST", body: JSON.stringify({ query, variables: { ...VARS, prNumber } }) });
  return { res, body: (await res.json()) as Doc & { errors?: { type?: string; message: string }[] } };
}

function hasValue(value: unknown, wanted: string): boolean {
  if (value === wanted) return true;
  if (value && typeof value === "object") return Object.values(value).some((v) => hasValue(v, wanted));
  return false;
}

function links(header: string | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of (header ?? "").matchAll(/<([^>]+)>;\s*rel="(\w+)"/g)) out[m[2]!] = m[1]!;
  return out;
}

test("REST pulls: Link headers with absolute URLs, per_page, page, sort and state", async (t) => {
  const sim = await started(t, { generate: 45, seed: 2 });
  const total = sim.prs().length;
  t.is(total, 11 + 45);
  const first = await fetch(`${sim.url}${PULLS}?state=all&sort=updated&direction=desc&per_page=20`);
  const l1 = links(first.headers.get("link"));
  t.deepEqual(Object.keys(l1).sort(), ["last", "next"]);
  t.is(new URL(l1.next!).searchParams.get("page"), "2");
  t.is(new URL(l1.last!).searchParams.get("page"), "3");
  t.is(new URL(l1.next!).searchParams.get("sort"), "updated", "the query is kept");
  t.true(l1.next!.startsWith(sim.url));
  const seen: any[] = [...((await first.json()) as any[])];
  for (let next: string | undefined = l1.next; next; ) {
    const res = await fetch(next);
    seen.push(...((await res.json()) as any[]));
    const l = links(res.headers.get("link"));
    t.truthy(l.prev);
    t.truthy(l.first);
    next = l.next;
  }
  t.is(seen.length, total);
  const times = seen.map((p) => Date.parse(p.updated_at));
  t.deepEqual(times, [...times].sort((a, b) => b - a), "sorted by updated, newest first");
  const open = (await (await fetch(`${sim.url}${PULLS}?per_page=100`)).json()) as any[];
  t.is(open.length, sim.prs().filter((p) => p.state === "open").length, "state defaults to open");
  const created = open.map((p) => Date.parse(p.created_at));
  t.deepEqual(created, [...created].sort((a, b) => b - a), "sort defaults to created, desc");
  const asc = (await (await fetch(`${sim.url}${PULLS}?state=closed&sort=updated&per_page=100`)).json()) as any[];
  const ascTimes = asc.map((p) => Date.parse(p.updated_at));
  t.deepEqual(ascTimes, [...ascTimes].sort((a, b) => a - b), "sort=updated defaults to asc");
  t.true(asc.every((p) => p.state === "closed"));
  const capped = (await (await fetch(`${sim.url}${PULLS}?state=all&per_page=500`)).json()) as any[];
  t.is(capped.length, Math.min(100, total));
  t.is((await fetch(`${sim.url}${PULLS}?state=bogus`)).status, 422);
  t.is((await fetch(`${sim.url}/repos/someone/else/pulls`)).status, 404);
});

test("REST pull objects agree with the recorded documents", async (t) => {
  const sim = await started(t);
  const res = await fetch(`${sim.url}${PULLS}/23000`);
  const p = (await res.json()) as any;
  const doc = fixture("data/23000/pr_info.json").data.repository.pullRequest;
  t.is(p.number, 23000);
  t.is(p.state, "closed");
  t.is(p.merged_at, null, "bors merges are closed, not merged");
  t.is(p.title, doc.title);
  t.is(p.updated_at, doc.updatedAt);
  t.is(p.head.sha, doc.headRefOid);
  t.is(p.head.ref, doc.headRefName);
  t.is(p.base.ref, doc.baseRefName);
  t.is(p.draft, doc.isDraft);
  t.deepEqual(p.labels.map((l: any) => l.name), doc.labels.nodes.map((l: any) => l.name));
  t.is(p.body, doc.body);
  t.is((await fetch(`${sim.url}${PULLS}/424242`)).status, 404);
  // A PR recorded only in basic form still has a (stable) head SHA.
  const basic = (await (await fetch(`${sim.url}${PULLS}/4197`)).json()) as any;
  t.regex(basic.head.sha, /^[0-9a-f]{40}$/);
  t.is(basic.head.sha, sim.get(4197)!.headSha);
});

test("x-ratelimit headers on every response, counted down per resource; exhaustion answers like GitHub", async (t) => {
  const sim = await started(t, { rateLimit: { limit: 5 } });
  const r1 = await fetch(`${sim.url}${PULLS}`);
  t.is(r1.headers.get("x-ratelimit-limit"), "5");
  t.is(r1.headers.get("x-ratelimit-remaining"), "4");
  t.is(r1.headers.get("x-ratelimit-used"), "1");
  t.is(r1.headers.get("x-ratelimit-resource"), "core");
  t.true(Number(r1.headers.get("x-ratelimit-reset")) > Date.now() / 1000);
  const g = await graphql(sim, "basic", 20000);
  t.is(g.res.headers.get("x-ratelimit-resource"), "graphql");
  t.is(g.res.headers.get("x-ratelimit-remaining"), "4");
  t.deepEqual(Object.keys(g.body.data), ["repository", "rateLimit"]);
  t.like(g.body.data.rateLimit as object, { cost: 1, remaining: 4 });
  for (let i = 0; i < 4; i++) await fetch(`${sim.url}${PULLS}`);
  const over = await fetch(`${sim.url}${PULLS}`);
  t.is(over.status, 403);
  t.is(over.headers.get("x-ratelimit-remaining"), "0");
  t.regex(((await over.json()) as any).message, /rate limit exceeded/);
  sim.rateLimitExhausted({ resource: "graphql", resetInMs: 60_000 });
  const gOver = await graphql(sim, "full", 20000);
  t.is(gOver.res.status, 200, "GraphQL reports its primary limit with 200 and RATE_LIMITED");
  t.is(gOver.body.errors?.[0]?.type, "RATE_LIMITED");
  t.is(gOver.res.headers.get("x-ratelimit-remaining"), "0");
  t.true(Math.abs(Number(gOver.res.headers.get("x-ratelimit-reset")) - (Date.now() + 60_000) / 1000) < 3);
  t.is(sim.requests.rateLimited, 2);
});

test("GraphQL: the three queries answered from the records; unknown PR and repository answered like GitHub", async (t) => {
  const sim = await started(t);
  const full = await graphql(sim, "full", 19055);
  const { rateLimit, ...data } = full.body.data;
  t.truthy(rateLimit);
  t.deepEqual({ ...full.body, data }, fixture("data/19055/pr_info.json"));
  const reactions = await graphql(sim, "reactions", 19055);
  const expected = fixture("data/19055/pr_reactions.json");
  expected.data.repository.pullRequest.updatedAt = full.body.data.repository.pullRequest.updatedAt;
  delete (reactions.body.data as Record<string, unknown>).rateLimit;
  t.deepEqual(reactions.body, expected);
  const missing = await graphql(sim, "full", 999999);
  t.is(missing.res.status, 200);
  t.deepEqual(missing.body.data.repository, { pullRequest: null });
  t.is(missing.body.errors?.[0]?.type, "NOT_FOUND");
  t.regex(missing.body.errors![0]!.message, /Could not resolve to a PullRequest with the number of 999999/);
  const wrongRepo = await fetch(`${sim.url}/graphql`, {
    method: "POST",
    body: JSON.stringify({ query: queryText("basic"), variables: { owner: "x", repo: "y", prNumber: 20000 } }),
  });
  const wr = (await wrongRepo.json()) as any;
  t.is(wr.data.repository, null);
  t.is(wr.errors[0].type, "NOT_FOUND");
  const stubborn = await graphql(sim, "full", 4197);
  t.is(stubborn.res.status, 502, "a PR recorded only in basic form fails the full query like a huge PR");
  t.is((await graphql(sim, "basic", 4197)).res.status, 200);
  t.is((await fetch(`${sim.url}/graphql`, { method: "POST", body: "{not json" })).status, 400);
});

test("GraphQL queries are told apart by operation name, or by their fields for the recorded unnamed queries", async (t) => {
  const sim = await started(t);
  const original = (file: string) => readFileSync(new URL(`queries/${file}`, FIXTURES), "utf8");
  t.is(queryKind(queryText("full")), "full");
  t.is(queryKind(queryText("basic")), "basic");
  t.is(queryKind(queryText("reactions")), "reactions");
  t.is(queryKind(original("pr_info.graphql")), "full");
  t.is(queryKind(original("basic_pr_info.graphql")), "basic");
  t.is(queryKind(original("pr_reactions.graphql")), "reactions");
  t.is(queryKind("query { viewer { login } }"), undefined);
  t.is(queryKind("{ x }", "PrReactions"), "reactions");
  // The recorded queries do not ask for rateLimit, so the answer has none: exactly the record.
  const old = await graphql(sim, "full", 20000, original("pr_info.graphql"));
  t.deepEqual(old.body, fixture("data/20000/pr_info.json"));
  t.is(sim.requests.full, 1);
  t.deepEqual(sim.requestsFor(20000), { full: 1, basic: 0, reactions: 0 });
});

test("derived answers: basic cut from pr_info keeps the query's fields in order; empty reactions match the records", async (t) => {
  const sim = await started(t);
  const basicSelection = parseSelection(queryText("basic"));
  // Cutting a recorded basic answer by the basic query changes nothing (fields, fragments, order).
  for (const name of ["11976-basic", "12234-basic"]) {
    const doc = fixture(`data/${name}/basic_pr_info.json`);
    t.is(JSON.stringify({ data: project(doc.data, basicSelection) }), JSON.stringify(doc), name);
  }
  const derived = sim.get(23100)!.basic as Doc;
  t.deepEqual(Object.keys(derived.data.repository.pullRequest), Object.keys(fixture("data/11976-basic/basic_pr_info.json").data.repository.pullRequest));
  const contexts = derived.data.repository.pullRequest.statusCheckRollup.contexts.nodes as Record<string, unknown>[];
  t.true(contexts.every((c) => (c.__typename === "CheckRun" ? "name" in c && !("context" in c) : "context" in c)), "fragments by __typename");
  // Where the recorded reactions are all empty, generating them gives the same document.
  for (const pr of [20000, 23000, 23100]) {
    const recorded = fixture(`data/${pr}/pr_reactions.json`);
    const docs = fixture(`data/${pr}/pr_info.json`);
    const view = (await started(t, { fixturesDir: fixtureCopyWithoutReactions(t, pr) })).get(pr)!;
    recorded.data.repository.pullRequest.updatedAt = docs.data.repository.pullRequest.updatedAt;
    t.deepEqual(view.reactions, recorded, `reactions of #${pr}`);
  }
  // 10024 has no recorded reactions: generated, covering its comments.
  const r = sim.get(10024)!.reactions as Doc;
  const comments = fixture("data/10024/pr_info.json").data.repository.pullRequest.comments.nodes as { id: string }[];
  t.deepEqual(
    r.data.repository.pullRequest.comments.nodes.map((c: { id: string }) => c.id),
    comments.map((c) => c.id),
  );
});

function fixtureCopyWithoutReactions(t: ExecutionContext, pr: number): string {
  const dir = mkdtempSync(join(tmpdir(), "prstate-sim-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, "data", String(pr)), { recursive: true });
  copyFileSync(new URL(`data/${pr}/pr_info.json`, FIXTURES), join(dir, "data", String(pr), "pr_info.json"));
  return dir;
}

test("update() changes REST and all three documents consistently, with updatedAt from the clock", async (t) => {
  const sim = await started(t, { now: "2031-05-01T10:00:00Z" });
  const head = "f".repeat(40);
  const oldHead = sim.get(20000)!.headSha;
  sim.clock.advance(90_000);
  const s = sim.update(20000, { title: "New title", headSha: head, isDraft: true, labels: ["WIP", "t-combinatorics"], commentBody: "a comment" });
  t.is(s.updatedAt, "2031-05-01T10:01:30Z");
  t.is(s.title, "New title");
  t.is(s.headSha, head);
  t.true(s.draft);
  t.deepEqual(s.labels, ["WIP", "t-combinatorics"]);
  const full = (await graphql(sim, "full", 20000)).body.data.repository.pullRequest;
  t.is(full.updatedAt, s.updatedAt);
  t.is(full.headRefOid, head);
  t.is(full.commits.nodes.at(-1).commit.oid, head, "the head commit moved with the force-push");
  t.false(hasValue(full, oldHead), "no field still holds the old head (old comments may mention it)");
  t.is(full.title, "New title");
  t.true(full.isDraft);
  t.deepEqual(full.labels.nodes.map((l: { name: string }) => l.name), ["WIP", "t-combinatorics"]);
  t.deepEqual(Object.keys(full.labels.nodes[0]), ["id", "color", "name"]);
  t.is(full.comments.nodes.at(-1).body, "a comment");
  const basic = (await graphql(sim, "basic", 20000)).body.data.repository.pullRequest;
  t.is(basic.updatedAt, s.updatedAt);
  t.is(basic.title, "New title");
  const reactions = (await graphql(sim, "reactions", 20000)).body.data.repository.pullRequest;
  t.is(reactions.updatedAt, s.updatedAt);
  t.is(reactions.comments.nodes.length, full.comments.nodes.length, "the new comment has (empty) reactions");
  const rest = (await (await fetch(`${sim.url}${PULLS}/20000`)).json()) as any;
  t.is(rest.updated_at, s.updatedAt);
  t.is(rest.head.sha, head);
  t.true(rest.draft);

  const closed = sim.update(20000, { state: "closed", bumpUpdatedAt: "2031-06-01T00:00:00Z" });
  t.is(closed.state, "closed");
  t.is(closed.updatedAt, "2031-06-01T00:00:00Z");
  const f2 = (await graphql(sim, "full", 20000)).body.data.repository.pullRequest;
  t.is(f2.state, "CLOSED");
  t.true(f2.closed);
  t.is(f2.closedAt, "2031-05-01T10:01:30Z");
  const merged = sim.update(20000, { state: "merged" });
  t.true(merged.merged);
  // CI results do not bump updatedAt on GitHub; bumpUpdatedAt: false keeps it too.
  const ci = sim.update(19055, { ci: "SUCCESS" });
  t.is(ci.updatedAt, fixture("data/19055/pr_info.json").data.repository.pullRequest.updatedAt);
  const build = (await graphql(sim, "full", 19055)).body.data.repository.pullRequest.statusCheckRollup.contexts.nodes.find((c: any) => c.name === "Build");
  t.like(build, { status: "COMPLETED", conclusion: "SUCCESS" });
  t.is(sim.update(19055, { title: "quiet", bumpUpdatedAt: false }).updatedAt, ci.updatedAt);
  // A basic-only PR changes in its basic document.
  const b = sim.update(4197, { labels: ["WIP"], headSha: "a".repeat(40) });
  t.is(b.headSha, "a".repeat(40));
  const b2 = (await graphql(sim, "basic", 4197)).body.data.repository.pullRequest;
  t.deepEqual(b2.labels.nodes.map((l: { name: string }) => l.name), ["WIP"]);
  t.false("headRefOid" in b2, "a basic document never gains full-query fields");
});

test("addPr() and generate: new numbers, ids, titles, times and head SHAs, deterministic per seed", async (t) => {
  const a = await started(t, { generate: 30, seed: 5, now: "2031-01-01T00:00:00Z" });
  const b = await started(t, { generate: 30, seed: 5, now: "2031-01-01T00:00:00Z" });
  t.deepEqual(a.prs(), b.prs());
  const generated = a.prs().filter((p) => p.title.includes("(simulated from"));
  t.is(generated.length, 30);
  t.is(new Set(a.prs().map((p) => p.headSha)).size, a.prs().length);
  t.is(new Set(a.prs().map((p) => p.nodeId)).size, a.prs().length);
  const g = generated[3]!;
  const doc = (await graphql(a, "full", g.number)).body.data.repository.pullRequest;
  t.is(doc.number, g.number);
  t.is(doc.id, g.nodeId);
  t.is(doc.title, g.title);
  t.is(doc.updatedAt, g.updatedAt);
  t.is(doc.headRefOid, g.headSha);
  t.true(doc.url.endsWith(`/pull/${g.number}`));
  t.true(Date.parse(g.createdAt) <= Date.parse(g.updatedAt));
  t.true(Date.parse(g.updatedAt) <= a.clock.now());

  // Changing a template PR leaves the PRs generated from it alone.
  const clone = generated.find((p) => p.title.endsWith("(simulated from #20000)"))!;
  const before = (await graphql(a, "full", clone.number)).body.data.repository;
  a.update(20000, { labels: ["changed"], commentBody: "only on the template" });
  t.deepEqual((await graphql(a, "full", clone.number)).body.data.repository, before);
  t.deepEqual(a.get(clone.number)!.labels, clone.labels);

  a.clock.set("2032-01-01T00:00:00Z");
  const added = a.addPr({ title: "Brand new", labels: ["new-contributor"], isDraft: true });
  t.is(added.number, Math.max(...b.prs().map((p) => p.number)) + 1);
  t.is(added.updatedAt, "2032-01-01T00:00:00Z");
  t.true(added.draft);
  const listed = (await (await fetch(`${a.url}${PULLS}?state=open&sort=updated&direction=desc`)).json()) as any[];
  t.is(listed[0].number, added.number);
  t.is(listed[0].title, "Brand new");
  const version = fixture("versions/19055/pr_info.4d3543b9.json");
  const replaced = a.replaceDocs(19055, { prInfo: version });
  t.is(replaced.updatedAt, version.data.repository.pullRequest.updatedAt);
  t.is(replaced.headSha, version.data.repository.pullRequest.headRefOid);
  t.throws(() => a.addPr({ number: 20000 }), { message: /exists/ });
});

test("faults: times, after, method/path targets, truncated and dropped answers on the wire", async (t) => {
  const sim = await started(t);
  const h = sim.fault({ pr: 20000, query: "basic", kind: "secondary-rate-limit", retryAfter: 3, times: 2, after: 1 });
  t.is((await graphql(sim, "basic", 20000)).res.status, 200, "after: 1 lets the first through");
  const limited = await graphql(sim, "basic", 20000);
  t.is(limited.res.status, 403);
  t.is(limited.res.headers.get("retry-after"), "3");
  t.regex((limited.body as any).message, /secondary rate limit/);
  t.is((await graphql(sim, "full", 20000)).res.status, 200, "other queries of the PR are not targeted");
  t.is((await graphql(sim, "basic", 20000)).res.status, 403);
  t.is((await graphql(sim, "basic", 20000)).res.status, 200, "times: 2 used up");
  t.is(h.hits, 2);
  t.false(h.active);

  sim.fault({ path: `${PULLS}*`, method: "GET", kind: "rate-limit", status: 429, retryAfter: 5, times: 1 });
  const r429 = await fetch(`${sim.url}${PULLS}/20000`);
  t.is(r429.status, 429);
  t.is(r429.headers.get("x-ratelimit-remaining"), "0");

  sim.fault({ path: PULLS, kind: "truncate", times: 1 });
  const cut = await fetch(`${sim.url}${PULLS}?state=all`);
  t.is(cut.status, 200);
  t.regex(cut.headers.get("content-type") ?? "", /application\/json/);
  const text = await cut.text();
  t.true(text.length > 100);
  t.throws(() => JSON.parse(text));

  sim.fault({ path: /\/pulls\/\d+$/, kind: "drop", times: 1 });
  await t.throwsAsync(fetch(`${sim.url}${PULLS}/20000`));
  sim.fault({ path: /\/pulls\/\d+$/, kind: "drop", partial: true, times: 1 });
  await t.throwsAsync(async () => (await fetch(`${sim.url}${PULLS}/20000`)).text());
  t.is((await fetch(`${sim.url}${PULLS}/20000`)).status, 200);

  sim.fault({ pr: 23000, kind: "server-error", delayMs: 200, times: 1 });
  const started502 = Date.now();
  const slow502 = await graphql(sim, "full", 23000);
  t.is(slow502.res.status, 502);
  t.true(Date.now() - started502 >= 190);
  t.regex(slow502.body.errors![0]!.message, /Something went wrong while executing your query/);
  t.throws(() => sim.fault({ kind: "slow" }), { message: /target/ });
  t.is(sim.requests.faulted, 7);
});

test("token, labels and deliveries endpoints; counters and reset", async (t) => {
  const sim = await started(t, { token: "sekrit-token" });
  t.is((await fetch(`${sim.url}${PULLS}`)).status, 401);
  t.is((await fetch(`${sim.url}${PULLS}`, { headers: { authorization: "token wrong" } })).status, 401);
  t.is((await fetch(`${sim.url}${PULLS}`, { headers: { authorization: "token sekrit-token" } })).status, 200);
  const auth = { authorization: "Bearer sekrit-token" };
  t.is((await fetch(`${sim.url}${PULLS}`, { headers: auth })).status, 200);
  const added = await fetch(`${sim.url}/repos/leanprover-community/mathlib4/issues/20000/labels`, { method: "POST", headers: auth, body: JSON.stringify({ labels: ["awaiting-CI"] }) });
  t.deepEqual(((await added.json()) as any[]).map((l) => l.name), ["t-combinatorics", "awaiting-CI"]);
  const removed = await fetch(`${sim.url}/repos/leanprover-community/mathlib4/issues/20000/labels/t-combinatorics`, { method: "DELETE", headers: auth });
  t.deepEqual(((await removed.json()) as any[]).map((l) => l.name), ["awaiting-CI"]);
  t.is((await fetch(`${sim.url}/repos/leanprover-community/mathlib4/issues/20000/labels/nope`, { method: "DELETE", headers: auth })).status, 404);
  const hooks = (await (await fetch(`${sim.url}/repos/leanprover-community/mathlib4/hooks`, { headers: auth })).json()) as any[];
  const page = await fetch(`${sim.url}/repos/leanprover-community/mathlib4/hooks/${hooks[0].id}/deliveries?per_page=4`, { headers: auth });
  t.is(((await page.json()) as any[]).length, 4);
  t.regex(links(page.headers.get("link")).next!, /cursor=/);
  t.is(sim.requests.unauthorized, 2);
  t.is(sim.requests.restPages, 2);
  t.is(sim.requests.labels, 3);
  t.is(sim.requests.total, 9);
  sim.resetCounters();
  t.is(sim.requests.total, 0);
});

test("stop() ends connections that wait in a slow fault", async (t) => {
  const sim = new GitHubSimulator();
  await sim.start();
  sim.fault({ path: PULLS, kind: "slow", delayMs: 60_000 });
  const pending = fetch(`${sim.url}${PULLS}`).then(
    (r) => r.status,
    () => "closed",
  );
  // Stop once the request is inside the server (Node 20's fetch never settles when a
  // connection is closed before its request was read).
  while (sim.requests.total === 0) await new Promise((resolve) => setTimeout(resolve, 10));
  const started = Date.now();
  await sim.stop();
  t.true(Date.now() - started < 2000);
  t.is(await pending, "closed");
});
