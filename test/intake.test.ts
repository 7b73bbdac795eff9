// Webhook intake without HTTP: subscription patterns, event -> PR mapping, the data repo's
// queue, coalescing, the spool drain's crash safety, the Actions adapter, redelivery and
// the optional awaiting-CI labels. Files are real (temp git repos, real fsync'd writes).
import test from "ava";
import { cp, readdir, readFile, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { ConfigError, InputError, NotFoundError, AuthError } from "../src/errors.js";
import { loadConfig } from "../src/config/config.js";
import { mapEvent, reducePayload, screenEvent } from "../src/intake/event-to-work.js";
import { enqueueEvent, listQueue, queuePath, removeQueued, type QueuedItem } from "../src/intake/queue-store.js";
import { coalesce } from "../src/intake/coalesce.js";
import { redeliverFailed, type DeliveriesApi } from "../src/intake/redeliver.js";
import { planLabelCi } from "../src/intake/label-ci.js";
import type { HookDelivery, HookSummary } from "../src/github/github.js";
import { headShaIndex, scanRepo } from "../src/store/repo-scan.js";
import { isSubscribed, loadSubscription } from "../hooks/subscription.js";
import { FileSpool, type Spool } from "../hooks/spool.js";
import { drainSpool, DrainError } from "../hooks/drain-spool.js";
import { enqueueFromActions } from "../hooks/actions-adapter.js";
import { fakeHeadSha, generateBurst, webhookPayload } from "../hooks/event-burst.js";
import { cleanupTempDirs, commitAll, git, initRepo, tempDir, writeFiles } from "./helpers/git-repo.js";

test.after.always(cleanupTempDirs);

const FIXTURES = new URL("../../fixtures/", import.meta.url);
const T0 = new Date("2025-01-10T12:00:00.000Z");
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000).toISOString();

function item(pr: number, seconds: number, kind: "full" | "basic", id = `d-${pr}-${seconds}-${kind}`): QueuedItem {
  return { deliveryId: id, event: "pull_request", action: kind === "basic" ? "labeled" : "synchronize", receivedAt: at(seconds), pr, kind, path: queuePath(pr, id) };
}

// ---------------------------------------------------------------- subscription

test("the default subscription holds every trigger of DESIGN 6.1 and nothing else", (t) => {
  const sub = loadSubscription();
  const prActions = ["opened", "reopened", "closed", "synchronize", "edited", "labeled", "unlabeled", "assigned", "unassigned", "review_requested", "review_request_removed", "converted_to_draft", "ready_for_review", "auto_merge_enabled", "auto_merge_disabled", "milestoned", "demilestoned"];
  for (const a of prActions) t.true(isSubscribed(sub, "pull_request", a), `pull_request.${a}`);
  for (const [e, a] of [["pull_request_review", "submitted"], ["pull_request_review", "dismissed"], ["pull_request_review_comment", "created"], ["pull_request_review_thread", "resolved"], ["issue_comment", "created"], ["check_suite", "completed"], ["check_run", "completed"], ["workflow_run", "completed"]] as const) {
    t.true(isSubscribed(sub, e, a), `${e}.${a}`);
  }
  t.true(isSubscribed(sub, "status"));
  t.true(isSubscribed(sub, "push"));
  // Not subscribed: other actions, cross-references and issue-only events.
  for (const [e, a] of [["pull_request", "locked"], ["check_suite", "requested"], ["check_run", "created"], ["workflow_run", "requested"], ["issues", "opened"], ["commit_comment", "created"], ["label", "created"], ["pull_request_target", "opened"]] as const) {
    t.false(isSubscribed(sub, e, a), `${e}.${a}`);
  }
});

test("subscription patterns: globs, `!` negation with the last match deciding, an empty list subscribes nothing", (t) => {
  const sub = loadSubscription(["pull_request.*", "!pull_request.locked", "check_*.completed", "status"]);
  t.true(isSubscribed(sub, "pull_request", "opened"));
  t.false(isSubscribed(sub, "pull_request", "locked"));
  t.false(isSubscribed(sub, "pull_request_review", "submitted"), "`pull_request.*` does not reach other events");
  t.true(isSubscribed(sub, "check_run", "completed"));
  t.true(isSubscribed(sub, "check_suite", "completed"));
  t.false(isSubscribed(sub, "check_suite", "requested"));
  t.true(isSubscribed(sub, "status"));
  t.false(isSubscribed(sub, "status", "x"), "an event with an action is matched as event.action");
  const reinclude = loadSubscription(["pull_request.*", "!pull_request.l*", "pull_request.labeled"]);
  t.true(isSubscribed(reinclude, "pull_request", "labeled"));
  t.false(isSubscribed(reinclude, "pull_request", "locked"));
  t.false(isSubscribed(loadSubscription([]), "pull_request", "opened"));
});

test("an invalid pattern is a ConfigError that names it", (t) => {
  for (const bad of ["pull_reqest.*", "issues.*", "!!pull_request.opened", "pull_request/opened", "pull request", "!", "   "]) {
    const err = t.throws(() => loadSubscription([bad]), { instanceOf: ConfigError }, bad);
    if (bad.trim() !== "") t.true(err!.message.includes(JSON.stringify(bad.trim())) || err!.message.includes(bad.trim()), err!.message);
  }
  const err = t.throws(() => loadSubscription(["pull_request.*", "check_suit.completed"]), { instanceOf: ConfigError });
  t.regex(err!.message, /webhooks\[1\].*check_suit\.completed/);
  // A future action of a handled event is allowed (GitHub adds actions).
  t.notThrows(() => loadSubscription(["pull_request.some_new_action"]));
});

test("the webhooks key of prstate.yaml feeds the subscription", async (t) => {
  const repo = await initRepo();
  await writeFiles(repo, { "prstate.yaml": "webhooks:\n  - pull_request.*\n  - '!pull_request.edited'\n" });
  const sub = loadSubscription((await loadConfig(repo)).webhooks);
  t.true(isSubscribed(sub, "pull_request", "labeled"));
  t.false(isSubscribed(sub, "pull_request", "edited"));
  t.false(isSubscribed(sub, "status"));
  await writeFiles(repo, { "prstate.yaml": "webhooks:\n  - pull_request.opend\n" });
  const sub2 = loadSubscription((await loadConfig(repo)).webhooks);
  t.false(isSubscribed(sub2, "pull_request", "opened"), "a future-action-shaped typo is allowed but matches nothing");
  await writeFiles(repo, { "prstate.yaml": "webhooks:\n  - pul_request.opened\n" });
  await t.throwsAsync(async () => loadSubscription((await loadConfig(repo)).webhooks), { instanceOf: ConfigError, message: /pul_request\.opened/ });
});

// ---------------------------------------------------------------- mapping

test("PR events map to the PR; label/draft/title/assignee changes need only the basic query", (t) => {
  const sha = fakeHeadSha(7);
  const none = new Map<string, number>();
  t.deepEqual(mapEvent("pull_request", webhookPayload("pull_request", "synchronize", { pr: 7, headSha: sha }), none), { prs: [7], shas: [sha], kind: "full" });
  for (const a of ["labeled", "unlabeled", "edited", "converted_to_draft", "ready_for_review", "assigned", "unassigned"]) {
    const m = mapEvent("pull_request", webhookPayload("pull_request", a, { pr: 7, headSha: sha }), none);
    t.like(m, { prs: [7], kind: "basic" }, a);
  }
  for (const a of ["opened", "closed", "reopened", "milestoned", "review_requested", "auto_merge_enabled"]) {
    t.like(mapEvent("pull_request", webhookPayload("pull_request", a, { pr: 7, headSha: sha }), none), { kind: "full" }, a);
  }
  const baseChanged = { ...webhookPayload("pull_request", "edited", { pr: 7, headSha: sha }), changes: { base: { ref: { from: "old" } } } };
  t.like(mapEvent("pull_request", baseChanged, none), { kind: "full" }, "a new base branch changes the commit list");
  t.like(mapEvent("pull_request_review", webhookPayload("pull_request_review", "submitted", { pr: 8, headSha: sha }), none), { prs: [8], kind: "full" });
  t.like(mapEvent("pull_request_review_thread", webhookPayload("pull_request_review_thread", "resolved", { pr: 9, headSha: sha }), none), { prs: [9] });
  t.like(mapEvent("pull_request_target", webhookPayload("pull_request_target", "labeled", { pr: 10, headSha: sha }), none), { prs: [10], kind: "basic" });
  const bad = mapEvent("pull_request", { action: "opened", pull_request: { number: "../1" } }, none);
  t.true("ignored" in bad && /number/.test(bad.ignored));
});

test("issue_comment maps only when the issue is a PR", (t) => {
  const onPr = webhookPayload("issue_comment", "created", { pr: 12, headSha: fakeHeadSha(12) });
  t.deepEqual(mapEvent("issue_comment", onPr, new Map()), { prs: [12], shas: [], kind: "full" });
  const onIssue = { action: "created", issue: { number: 12 }, comment: { body: "hi" } };
  const m = mapEvent("issue_comment", onIssue, new Map());
  t.true("ignored" in m && /not a PR/.test(m.ignored));
  t.truthy(screenEvent("issue_comment", onIssue), "the receiver can drop it at once");
});

test("a fork PR's check_suite with empty pull_requests maps through the SHA index of real records", async (t) => {
  const repo = await initRepo();
  await cp(new URL("data/19055", FIXTURES), join(repo, "data/19055"), { recursive: true });
  await cp(new URL("data/20000", FIXTURES), join(repo, "data/20000"), { recursive: true });
  const index = headShaIndex(await scanRepo(repo));
  const head = "bfffdcaed734a0b4f3449d4d3495fa204d7bc939"; // headRefOid of data/19055/pr_info.json
  t.is(index.get(head), 19055);
  const payload = webhookPayload("check_suite", "completed", { pr: 19055, headSha: head, fork: true });
  t.deepEqual((payload.check_suite as { pull_requests: unknown[] }).pull_requests, []);
  t.deepEqual(mapEvent("check_suite", payload, index), { prs: [19055], shas: [head], kind: "full" });
  for (const ev of ["check_run", "workflow_run", "status"]) {
    t.like(mapEvent(ev, webhookPayload(ev, ev === "status" ? undefined : "completed", { pr: 19055, headSha: head, fork: true }), index), { prs: [19055] }, ev);
  }
});

test("an unmappable SHA is dropped with a reason, never an error", (t) => {
  const unknown = "0123456789abcdef0123456789abcdef01234567";
  const m = mapEvent("check_suite", webhookPayload("check_suite", "completed", { pr: 5, headSha: unknown, fork: true }), new Map([[fakeHeadSha(1), 1]]));
  t.true("ignored" in m);
  t.regex((m as { ignored: string }).ignored, /no PR record has head 0123456789ab/);
  t.is(screenEvent("check_suite", webhookPayload("check_suite", "completed", { pr: 5, headSha: unknown, fork: true })), undefined, "the receiver keeps it: the drain's index may know it");
  const noSha = mapEvent("status", { sha: "not-a-sha", state: "success" }, new Map());
  t.true("ignored" in noSha);
});

test("CI pull_requests of other repositories are not this repository's PRs", (t) => {
  const p = webhookPayload("check_run", "completed", { pr: 5, headSha: fakeHeadSha(5), repoId: 100 });
  const run = p.check_run as { pull_requests: { number: number; base: { repo: { id: number } } }[] };
  run.pull_requests.push({ number: 99, base: { repo: { id: 555 } } });
  t.deepEqual(mapEvent("check_run", p, new Map()), { prs: [5], shas: [fakeHeadSha(5)], kind: "full" });
});

test("push maps only when forced, by the old head the records hold", (t) => {
  const old = fakeHeadSha(31);
  const index = new Map([[old, 31]]);
  const forced = { ref: "refs/heads/feature", before: old, after: "a".repeat(40), forced: true };
  t.deepEqual(mapEvent("push", forced, index), { prs: [31], shas: ["a".repeat(40)], kind: "full" });
  t.like(mapEvent("push", { ...forced, before: "b".repeat(40) }, new Map([["refs/heads/feature", 32]])), { prs: [32] }, "by ref when the index carries refs");
  const plain = mapEvent("push", { ...forced, forced: false }, index);
  t.true("ignored" in plain && /not a forced push/.test(plain.ignored));
});

test("repository_dispatch and workflow_dispatch name PRs explicitly", (t) => {
  t.deepEqual(mapEvent("repository_dispatch", { action: "prstate", client_payload: { prs: [3, 1, 3] } }, new Map()), { prs: [1, 3], shas: [], kind: "full" });
  t.like(mapEvent("repository_dispatch", { client_payload: { pr: 4, kind: "basic" } }, new Map()), { prs: [4], kind: "basic" });
  t.like(mapEvent("workflow_dispatch", { inputs: { prs: "5, 6" } }, new Map()), { prs: [5, 6] });
  t.true("ignored" in mapEvent("repository_dispatch", { client_payload: { prs: [1, "../2"] } }, new Map()));
  t.true("ignored" in mapEvent("repository_dispatch", { client_payload: {} }, new Map()));
});

test("reducePayload keeps exactly what mapEvent needs", (t) => {
  const index = new Map([[fakeHeadSha(40), 40]]);
  const burst = generateBurst({ events: 300, prs: [40, 41, 42], headSha: fakeHeadSha, forks: new Set([40]), seed: 7 });
  const extra = [
    { deliveryId: "x1", event: "push", payload: webhookPayload("push", undefined, { pr: 40, headSha: fakeHeadSha(40) }) },
    { deliveryId: "x2", event: "issue_comment", payload: { action: "created", issue: { number: 3 } } },
    { deliveryId: "x3", event: "repository_dispatch", payload: { action: "go", client_payload: { prs: [1, 2], junk: "x".repeat(1000) } } },
  ];
  for (const d of [...burst, ...extra]) {
    const reduced = reducePayload(d.event, d.payload);
    t.deepEqual(mapEvent(d.event, reduced, index), mapEvent(d.event, d.payload, index), d.event);
    t.true(JSON.stringify(reduced).length <= JSON.stringify(d.payload).length);
  }
});

// ---------------------------------------------------------------- queue

test("enqueueEvent is idempotent by delivery id and validates PR numbers and ids", async (t) => {
  const repo = await initRepo();
  const entry = { deliveryId: "72d3162e-cc78-11e3-81ab-4c9367dc0958", event: "pull_request", action: "labeled", receivedAt: at(0), pr: 123, kind: "basic" as const };
  const first = await enqueueEvent(repo, entry);
  t.deepEqual(first, { path: "state/queue/123/72d3162e-cc78-11e3-81ab-4c9367dc0958.json", stored: true });
  const before = await readFile(join(repo, first.path), "utf8");
  const again = await enqueueEvent(repo, { ...entry, receivedAt: at(99), kind: "full" });
  t.false(again.stored);
  t.is(await readFile(join(repo, first.path), "utf8"), before, "the first copy is kept as it was");
  t.deepEqual(JSON.parse(before), entry);
  for (const pr of ["../x", "12a", -3, "1e3", 0]) {
    await t.throwsAsync(enqueueEvent(repo, { ...entry, pr: pr as number }), { instanceOf: InputError }, String(pr));
  }
  // A hostile delivery id stays a file name inside the PR's queue folder.
  const odd = await enqueueEvent(repo, { ...entry, deliveryId: "../../../etc/passwd" });
  t.regex(odd.path, /^state\/queue\/123\/[A-Za-z0-9._-]+\.json$/);
  t.false(odd.path.includes(".."));
  const long = await enqueueEvent(repo, { ...entry, deliveryId: "a".repeat(500) });
  t.true(long.path.length < 140);
  await t.throwsAsync(enqueueEvent(repo, { ...entry, deliveryId: "" }), { instanceOf: InputError });
  const listed = await listQueue(repo);
  t.is(listed.length, 3);
  t.deepEqual(await readdir(join(repo, "state/queue/123")), listed.map((i) => i.path.split("/").pop()).sort(), "no temp files left behind");
});

test("listQueue keeps a damaged queue file as a full request; removeQueued deletes only queue files", async (t) => {
  const repo = await initRepo();
  await enqueueEvent(repo, { deliveryId: "a", event: "pull_request", action: "labeled", receivedAt: at(0), pr: 5, kind: "basic" });
  await writeFiles(repo, { "state/queue/6/broken.json": "{not json", "state/queue/notapr/x.json": "{}", "state/queue/6/.broken.json.1.tmp": "partial" });
  const items = await listQueue(repo);
  t.deepEqual(items.map((i) => [i.path, i.kind, i.problem]), [
    ["state/queue/5/a.json", "basic", undefined],
    ["state/queue/6/broken.json", "full", "not valid JSON"],
  ]);
  await commitAll(repo, "queue");
  await t.throwsAsync(removeQueued(repo, ["data/5/pr_info.json"]), { instanceOf: InputError });
  await t.throwsAsync(removeQueued(repo, ["state/queue/5/../../../x.json"]), { instanceOf: InputError });
  t.is(await removeQueued(repo, ["state/queue/5/a.json", "state/queue/5/a.json", "state/queue/6/gone.json"]), 1);
  t.deepEqual((await listQueue(repo)).map((i) => i.path), ["state/queue/6/broken.json"]);
  const status = (await git(repo, ["status", "--porcelain"])).stdout;
  t.regex(status, /^ D state\/queue\/5\/a\.json$/m, "git sees the deletion, to be committed with the data it caused");
});

// ---------------------------------------------------------------- coalescing

test("out-of-order and duplicate events of one PR coalesce to one item; full wins over basic", (t) => {
  const events = [item(7, 30, "basic"), item(7, 10, "full"), item(7, 20, "basic"), item(7, 20, "basic")];
  const { ready, waiting } = coalesce(events, new Date(T0.getTime() + 3600_000), 60);
  t.is(waiting.length, 0);
  t.is(ready.length, 1);
  t.like(ready[0], { pr: 7, kind: "full", firstAt: at(10), lastAt: at(30) });
  t.deepEqual(ready[0]!.paths, [...new Set(events.map((e) => e.path))].sort());
  t.deepEqual(ready[0]!.reasons, ["pull_request.labeled", "pull_request.synchronize"]);
  const shuffled = coalesce([...events].reverse(), new Date(T0.getTime() + 3600_000), 60);
  t.deepEqual(shuffled, { ready, waiting }, "order of events never matters");
  t.like(coalesce([item(8, 0, "basic"), item(8, 5, "basic")], new Date(T0.getTime() + 3600_000), 60).ready[0], { kind: "basic" });
});

test("debounce: a PR waits while its events keep coming, but never longer than 5 windows", (t) => {
  const now = new Date(T0.getTime() + 100_000);
  const items = [
    item(1, 10, "full"), // quiet for 90 s: ready
    item(2, 80, "full"), // newest 20 s ago: waiting
    item(2, 60, "full"),
    item(3, 99, "full"), // busy since 400 s ago: waited over 5 x 60 s, ready although its newest is 1 s old
    item(3, -300, "full"),
  ];
  const { ready, waiting } = coalesce(items, now, 60);
  t.deepEqual(ready.map((w) => w.pr), [3, 1], "the PR that waited longest first");
  t.deepEqual(waiting.map((w) => w.pr), [2]);
  t.deepEqual(coalesce(items, now, 0).ready.map((w) => w.pr).sort(), [1, 2, 3], "no window: everything is ready");
  t.deepEqual(coalesce([{ ...item(4, 0, "full"), receivedAt: "garbage" }], now, 60).ready.map((w) => w.pr), [4], "an unreadable time never holds a PR back");
  t.deepEqual(coalesce([item(5, 100_000, "full")], now, 60).ready.map((w) => w.pr), [5], "a time far in the future (skewed clock) neither");
});

test("1,000 queued events over 50 PRs in a burst become at most 50 work items", async (t) => {
  const repo = await initRepo();
  const prs = Array.from({ length: 50 }, (_, i) => 20_000 + i);
  const burst = generateBurst({ events: 1000, prs, headSha: fakeHeadSha, forks: new Set(prs.slice(0, 10)), seed: 3 });
  const index = new Map(prs.map((n) => [fakeHeadSha(n), n]));
  let queued = 0;
  for (const [i, d] of burst.entries()) {
    const work = mapEvent(d.event, d.payload, index);
    if ("ignored" in work) t.fail(`${d.event}: ${work.ignored}`);
    else {
      for (const pr of work.prs) {
        await enqueueEvent(repo, { deliveryId: d.deliveryId, event: d.event, receivedAt: at(i * 0.01), pr, kind: work.kind });
        queued++;
      }
    }
  }
  const items = await listQueue(repo);
  t.is(items.length, queued);
  t.true(queued >= 1000);
  const { ready, waiting } = coalesce(items, new Date(T0.getTime() + 600_000), 60);
  t.is(waiting.length, 0);
  t.is(ready.length, 50);
  t.is(ready.reduce((s, w) => s + w.paths.length, 0), items.length, "every queue file is consumed by exactly one item");
  // Right after the burst everything is still inside the window.
  const early = coalesce(items, new Date(T0.getTime() + 11_000), 60);
  t.is(early.ready.length + early.waiting.length, 50);
});

// ---------------------------------------------------------------- drain

async function spoolWith(dir: string, deliveries: ReturnType<typeof generateBurst>): Promise<FileSpool> {
  const spool = new FileSpool(dir);
  for (const [i, d] of deliveries.entries()) {
    const action = typeof d.payload.action === "string" ? d.payload.action : undefined;
    await spool.write({ deliveryId: d.deliveryId, event: d.event, ...(action ? { action } : {}), receivedAt: at(i), payload: reducePayload(d.event, d.payload) });
  }
  return spool;
}

test("drainSpool is crash-safe: a failed spool removal leaves the event queued, and a re-drain does not duplicate it", async (t) => {
  const repo = await initRepo();
  const spoolDir = await tempDir("prstate-spool-");
  const index = new Map([[fakeHeadSha(77), 77]]);
  const burst = generateBurst({ events: 5, prs: [77], headSha: fakeHeadSha, forks: new Set([77]), seed: 11 });
  const real = await spoolWith(spoolDir, burst);
  // The "crash": the process dies after the queue files are durable, before the spool file is gone.
  const crashing: Spool = { ...bind(real), remove: async () => Promise.reject(new Error("simulated crash before the spool removal")) };
  const err = await t.throwsAsync(drainSpool(spoolDir, repo, index, { spool: crashing }), { instanceOf: DrainError });
  t.is(err!.failures.length, 5, "every delivery was attempted and reported in ONE error");
  t.regex(err!.message, /5 deliveries failed/);
  t.is((await listQueue(repo)).length, 5, "the events are in the queue");
  t.is((await real.list()).length, 5, "and still in the spool");

  const again = await drainSpool(spoolDir, repo, index);
  t.is(again.drained, 5);
  t.is(again.duplicates, 5);
  t.deepEqual(again.queued, []);
  t.is((await listQueue(repo)).length, 5, "no duplicate queue files");
  t.deepEqual(await real.list(), []);
});

function bind(s: FileSpool): Spool {
  return { write: (e) => s.write(e), list: () => s.list(), read: (e) => s.read(e), remove: (e) => s.remove(e), reject: (e) => s.reject(e) };
}

test("drainSpool processes every delivery, drops unmappable ones, sets aside unreadable ones and throws one aggregate error", async (t) => {
  const repo = await initRepo();
  const spoolDir = await tempDir("prstate-spool-");
  const good = generateBurst({ events: 20, prs: [1, 2, 3], headSha: fakeHeadSha, seed: 5 });
  const unknownCi = { deliveryId: "unknown-sha", event: "status", payload: { sha: "9".repeat(40), state: "success" } };
  await spoolWith(spoolDir, [...good, unknownCi]);
  await writeFile(join(spoolDir, "corrupt.json"), "{\"deliveryId\":");
  const lines: string[] = [];
  const err = await t.throwsAsync(drainSpool(spoolDir, repo, new Map(), { log: (l) => lines.push(l) }), { instanceOf: DrainError });
  t.deepEqual(err!.failures.map((f) => f.deliveryId), ["corrupt"]);
  t.is(err!.result.drained, 21);
  t.deepEqual(err!.result.ignored.map((i) => i.deliveryId), ["unknown-sha"]);
  t.true(lines.some((l) => l.includes("unknown-sha")), "the dropped event is logged");
  const queued = await listQueue(repo);
  t.is(new Set(queued.map((q) => q.deliveryId)).size, 20);
  t.deepEqual(await readdir(spoolDir), ["rejected"]);
  t.deepEqual(await readdir(join(spoolDir, "rejected")), ["corrupt.json"], "kept for a person to look at");
  t.deepEqual(await drainSpool(spoolDir, repo, new Map()), { drained: 0, queued: [], duplicates: 0, ignored: [] }, "a second drain has nothing left to fail on");
});

// ---------------------------------------------------------------- Actions

test("enqueueFromActions: repository_dispatch, pull_request_target and workflow_run payloads, stable default ids", async (t) => {
  const repo = await initRepo();
  const dir = await tempDir();
  const dispatch = join(dir, "dispatch.json");
  await writeFile(dispatch, JSON.stringify({ action: "prstate-refresh", client_payload: { prs: [11, 12] } }));
  const r1 = await enqueueFromActions(repo, { event: "repository_dispatch", payloadPath: dispatch, now: T0 });
  t.is(r1.queued.length, 2);
  t.regex(r1.deliveryId, /^gha-repository_dispatch-[0-9a-f]{32}$/);
  const r2 = await enqueueFromActions(repo, { event: "repository_dispatch", payloadPath: dispatch, now: new Date() });
  t.is(r2.deliveryId, r1.deliveryId, "the same payload gives the same id");
  t.deepEqual(r2.duplicates, r1.queued, "and is stored once");

  const target = await enqueueFromActions(repo, { event: "pull_request_target", payload: webhookPayload("pull_request_target", "labeled", { pr: 13, headSha: fakeHeadSha(13) }), deliveryId: "run-1" });
  t.deepEqual(target.queued, ["state/queue/13/run-1.json"]);
  t.like(JSON.parse(await readFile(join(repo, target.queued[0]!), "utf8")), { event: "pull_request_target", action: "labeled", kind: "basic", pr: 13 });

  const fork = webhookPayload("workflow_run", "completed", { pr: 14, headSha: fakeHeadSha(14), fork: true });
  t.truthy((await enqueueFromActions(repo, { event: "workflow_run", payload: fork })).ignored, "no index: ignored, not an error");
  t.is((await enqueueFromActions(repo, { event: "workflow_run", payload: fork, shaIndex: new Map([[fakeHeadSha(14), 14]]) })).queued.length, 1);

  await writeFile(join(dir, "bad.json"), "nope");
  await t.throwsAsync(enqueueFromActions(repo, { event: "push", payloadPath: join(dir, "bad.json") }), { instanceOf: InputError, message: /not JSON/ });
  await t.throwsAsync(enqueueFromActions(repo, { event: "push", payloadPath: join(dir, "missing.json") }), { instanceOf: InputError, message: /cannot read/ });
  await t.throwsAsync(enqueueFromActions(repo, { event: "Bad Event", payload: {} }), { instanceOf: InputError });
});

// ---------------------------------------------------------------- redeliver

class FakeHooks implements DeliveriesApi {
  asked: [number, number][] = [];
  refuse = new Set<number>();
  constructor(
    public hooks: HookSummary[],
    public deliveries: Map<number, HookDelivery[]>,
  ) {}
  async listHooks() {
    return this.hooks;
  }
  async listDeliveries(hookId: number) {
    return [...(this.deliveries.get(hookId) ?? [])].sort((a, b) => b.id - a.id);
  }
  async redeliver(hookId: number, deliveryId: number) {
    if (this.refuse.has(deliveryId)) throw new NotFoundError("delivery not found", 404);
    this.asked.push([hookId, deliveryId]);
  }
}

const delivery = (id: number, guid: string, statusCode: number, minutesAgo: number, redelivery = false): HookDelivery => ({
  id,
  guid,
  deliveredAt: new Date(T0.getTime() - minutesAgo * 60_000).toISOString(),
  status: statusCode === 202 ? "OK" : `Invalid HTTP Response: ${statusCode}`,
  statusCode,
  event: "pull_request",
  action: "labeled",
  redelivery,
});

test("redeliverFailed asks once per failed event, skips events delivered later, remembers across runs", async (t) => {
  const dir = await tempDir();
  const memoryFile = join(dir, "state", "redeliver.json");
  const gh = new FakeHooks(
    [{ id: 1, events: ["*"], active: true }, { id: 2, events: ["*"], active: false }],
    new Map([
      [1, [delivery(10, "g-ok", 202, 50), delivery(11, "g-fail", 503, 40), delivery(12, "g-later-ok", 0, 30), delivery(13, "g-later-ok", 202, 20, true), delivery(14, "g-refused", 500, 10), delivery(15, "g-old", 401, 600)]],
      [2, [delivery(20, "g-inactive", 503, 5)]],
    ]),
  );
  gh.refuse.add(14);
  const since = new Date(T0.getTime() - 120 * 60_000);
  const first = await redeliverFailed(gh, { memoryFile, since, now: T0 });
  t.deepEqual(first.hooks, [1], "inactive hooks are skipped");
  t.deepEqual(gh.asked, [[1, 11]]);
  t.deepEqual(first.failed.map((f) => f.guid), ["g-refused"]);
  t.is(first.alreadyAsked, 0);

  gh.refuse.clear();
  const second = await redeliverFailed(gh, { memoryFile, since, now: T0 });
  t.deepEqual(gh.asked, [[1, 11], [1, 14]], "not asked twice; the refused one is tried again");
  t.is(second.alreadyAsked, 1);
  const third = await redeliverFailed(gh, { memoryFile, now: T0 });
  t.deepEqual(third.asked.map((a) => a.guid), ["g-old"], "without --since older failures count too");
  const memory = JSON.parse(await readFile(memoryFile, "utf8"));
  t.deepEqual(Object.keys(memory.asked).sort(), ["1/g-fail", "1/g-old", "1/g-refused"]);

  const fourth = await redeliverFailed(gh, { memoryFile, hookId: 2, now: T0 });
  t.deepEqual(fourth.asked.map((a) => a.deliveryId), [20], "an explicit hook id is used as given");

  await writeFile(memoryFile, "garbage");
  await t.throwsAsync(redeliverFailed(gh, { memoryFile }), { message: /redeliver memory .*not valid JSON/ });

  const denied: DeliveriesApi = { ...gh, listHooks: async () => gh.hooks, listDeliveries: async () => [delivery(30, "g-x", 500, 1)], redeliver: async () => Promise.reject(new AuthError("bad credentials", 401)) };
  await mkdir(join(dir, "b"));
  await t.throwsAsync(redeliverFailed(denied, { memoryFile: join(dir, "b", "m.json") }), { instanceOf: AuthError }, "a refused token stops the run");
});

// ---------------------------------------------------------------- label-ci

test("planLabelCi adds awaiting-CI on new heads and removes it when CI completes for the current head", (t) => {
  const sha = fakeHeadSha(50);
  t.deepEqual(planLabelCi("pull_request", webhookPayload("pull_request", "synchronize", { pr: 50, headSha: sha })), [{ op: "add", pr: 50, label: "awaiting-CI" }]);
  const labeled = webhookPayload("pull_request", "opened", { pr: 50, headSha: sha });
  (labeled.pull_request as { labels: { name: string }[] }).labels.push({ name: "awaiting-CI" });
  t.deepEqual(planLabelCi("pull_request", labeled), [], "already labeled");
  t.deepEqual(planLabelCi("pull_request", webhookPayload("pull_request", "labeled", { pr: 50, headSha: sha })), []);
  t.deepEqual(planLabelCi("check_suite", webhookPayload("check_suite", "completed", { pr: 50, headSha: sha })), [{ op: "remove", pr: 50, label: "awaiting-CI" }]);
  t.deepEqual(planLabelCi("workflow_run", webhookPayload("workflow_run", "completed", { pr: 50, headSha: sha, fork: true }), { shaIndex: new Map([[sha, 50]]) }), [{ op: "remove", pr: 50, label: "awaiting-CI" }]);
  const stale = webhookPayload("check_suite", "completed", { pr: 50, headSha: sha });
  (stale.check_suite as { pull_requests: { head: { sha: string } }[] }).pull_requests[0]!.head.sha = "c".repeat(40);
  t.deepEqual(planLabelCi("check_suite", stale), [], "a completion for an old head removes nothing");
  t.deepEqual(planLabelCi("workflow_run", webhookPayload("workflow_run", "completed", { pr: 50, headSha: sha }), { workflows: ["lint"] }), [], "only the named CI workflows count");
  t.deepEqual(planLabelCi("check_run", webhookPayload("check_run", "completed", { pr: 50, headSha: sha })), [], "one check run is not the whole CI");
});
