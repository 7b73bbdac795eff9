// What one download's outcome does to a PR's files (DESIGN 2), and the trailer's Transition.
import test from "ava";
import fc from "fast-check";
import { DEFAULT_CONFIG, type Config } from "../src/config/config.js";
import { RateLimitError, ServerError, TimeoutError } from "../src/errors.js";
import type { ListName } from "../src/layout.js";
import { parseList, serializeList } from "../src/lists/list-file.js";
import { applyChanges, applyToList, isNoop } from "../src/state/pr-changes.js";
import type { AttemptFacts, PrFacts, RecordFacts } from "../src/state/pr-facts.js";
import { derivePrState, stateLabel } from "../src/state/pr-state.js";
import { errorClassOf, planTransition, type DownloadOutcome } from "../src/state/transitions.js";

const cfg: Config = DEFAULT_CONFIG;
const now = new Date("2025-03-01T12:00:00.000Z");
const writer = "run-42";
const record = (over: Partial<RecordFacts> = {}): RecordFacts => ({ basic: false, valid: true, problems: [], ...over });

function attemptFile(pr: number, i: number): AttemptFacts {
  return { at: `2025-03-01T0${i}:00:00.000Z`, writer: "w", errorClass: "TimeoutError", query: "full", path: `state/attempts/${pr}/2025-03-01T0${i}-00-00.000Z-w.json` };
}
const legacyAttempt: AttemptFacts = { at: "1970-01-01T00:00:00.000Z", writer: "legacy-missing-list", errorClass: "legacy", query: "full" };

function facts(over: Partial<Omit<PrFacts, "lists">> & { lists?: ListName[] } = {}, pr = 1234): PrFacts {
  const { lists, ...rest } = over;
  return { pr, temp: false, attempts: [], queued: [], ...rest, lists: new Set(lists ?? []) };
}

const ok = (record: "full" | "basic"): DownloadOutcome => ({ ok: true, record });
const fail = (error: unknown, query: "full" | "basic" = "full"): DownloadOutcome => ({ ok: false, query, error });

test("missing -> fresh: leaves missing_prs.txt, attempts and legacy comments go, in the same plan", (t) => {
  const f = facts({ lists: ["missing"], attempts: [attemptFile(1234, 1), legacyAttempt] });
  const p = planTransition({ facts: f, outcome: ok("full"), cfg, now, writer });
  t.is(p.writeRecord, "full");
  t.deepEqual(p.removeFromLists, ["missing"]);
  t.deepEqual(p.addToLists, []);
  t.deepEqual(p.removeAttempts, ["state/attempts/1234/2025-03-01T01-00-00.000Z-w.json"]);
  t.true(p.removeLegacyAttempts);
  t.is(p.recordAttempt, undefined);
  t.deepEqual(p.transition, { pr: 1234, from: "failing(2)", to: "fresh", reason: "download of missing PR succeeded after 2 failed attempts", writer });
});

test("backfill and re-download successes leave their lists; the answered queue files go", (t) => {
  const backfill = planTransition({ facts: facts({ lists: ["backfill"] }), outcome: ok("full"), cfg, now, writer });
  t.deepEqual(backfill.removeFromLists, ["backfill"]);
  t.is(backfill.transition?.reason, "backfill download succeeded");
  t.is(`${backfill.transition?.from} -> ${backfill.transition?.to}`, "missing -> fresh");

  const queued = [{ deliveryId: "a", event: "pull_request", receivedAt: "2025-03-01T11:00:00Z", path: "state/queue/1234/a.json" }];
  const f = facts({ full: record(), lists: ["redownload"], queued });
  const p = planTransition({ facts: f, outcome: ok("full"), cfg, now, writer, queuePaths: ["state/queue/1234/a.json"] });
  t.deepEqual(p.removeFromLists, ["redownload"]);
  t.deepEqual(p.removeQueue, ["state/queue/1234/a.json"]);
  t.is(`${p.transition?.from} -> ${p.transition?.to}`, "outdated -> fresh");
  t.is(p.transition?.reason, "re-download succeeded");
});

test("a failed re-download keeps the good record and counts one attempt", (t) => {
  const f = facts({ full: record(), lists: ["redownload"] });
  const p = planTransition({ facts: f, outcome: fail(new TimeoutError("GraphQL timed out")), cfg, now, writer });
  t.true(p.counted);
  t.deepEqual(p.removePaths, []);
  t.deepEqual(p.removeFromLists, []);
  t.deepEqual(p.addToLists, []);
  t.deepEqual(p.recordAttempt, { at: now.toISOString(), writer, errorClass: "TimeoutError", query: "full", message: "GraphQL timed out" });
  t.is(`${p.transition?.from} -> ${p.transition?.to}`, "outdated -> failing(1)");
  t.is(p.transition?.reason, "full download failed: TimeoutError");
});

test("the attempt being recorded counts: a missing PR becomes stubborn at the 3rd failure, once", (t) => {
  const f = facts({ lists: ["missing"], attempts: [attemptFile(1234, 1), attemptFile(1234, 2)] });
  const p = planTransition({ facts: f, outcome: fail(new ServerError("502", 502)), cfg, now, writer });
  t.true(p.becomesStubborn);
  t.deepEqual(p.addToLists, ["stubborn"]);
  t.is(p.recordAttempt, undefined, "the basic regime starts without backoff");
  t.is(p.removeAttempts.length, 2);
  t.is(`${p.transition?.from} -> ${p.transition?.to}`, "failing(2) -> stubborn");
  t.regex(p.transition!.reason, /3 failed attempts reached the threshold of 3/);
  // Already listed: never added twice.
  const again = planTransition({ facts: facts({ lists: ["missing", "stubborn"], attempts: [attemptFile(1234, 1)] }), outcome: fail("TimeoutError", "basic"), cfg, now, writer });
  t.deepEqual(again.addToLists, []);
  t.false(again.becomesStubborn);
  t.truthy(again.recordAttempt);
});

test("re-downloads use the higher threshold (5)", (t) => {
  const three = facts({ full: record(), lists: ["redownload"], attempts: [1, 2, 3].map((i) => attemptFile(1234, i)) });
  t.false(planTransition({ facts: three, outcome: fail("TimeoutError"), cfg, now, writer }).becomesStubborn);
  const four = facts({ full: record(), lists: ["redownload"], attempts: [1, 2, 3, 4].map((i) => attemptFile(1234, i)) });
  const p = planTransition({ facts: four, outcome: fail("TimeoutError"), cfg, now, writer });
  t.true(p.becomesStubborn);
  t.deepEqual(p.removePaths, [], "the record stays");
});

test("legacy `-- second attempt for N` comments count as attempts", (t) => {
  const f = facts({ lists: ["missing"], attempts: [attemptFile(1234, 1), legacyAttempt] });
  const p = planTransition({ facts: f, outcome: fail("MalformedResponseError"), cfg, now, writer });
  t.true(p.becomesStubborn);
  t.true(p.removeLegacyAttempts);
});

test("rate limits are never counted and change nothing", (t) => {
  const f = facts({ lists: ["missing"], attempts: [attemptFile(1234, 1), attemptFile(1234, 2)] });
  for (const error of [new RateLimitError("secondary rate limit", 403), "RateLimitError"]) {
    const p = planTransition({ facts: f, outcome: fail(error), cfg, now, writer });
    t.false(p.counted);
    t.true(isNoop(p));
    t.is(p.transition, undefined);
  }
});

test("a failed periodic stubborn retry (full query) is not counted", (t) => {
  const f = facts({ basic: record({ basic: true }), lists: ["stubborn"] });
  const p = planTransition({ facts: f, outcome: fail(new TimeoutError("t")), cfg, now, writer });
  t.false(p.counted);
  t.true(isNoop(p));
  // The basic download of the same PR failing does count.
  const basic = planTransition({ facts: facts({ lists: ["stubborn"] }), outcome: fail(new TimeoutError("t"), "basic"), cfg, now, writer });
  t.true(basic.counted);
  t.is(basic.recordAttempt?.query, "basic");
  t.is(`${basic.transition?.from} -> ${basic.transition?.to}`, "stubborn -> stubborn");
});

test("stubborn retry success: off stubborn_prs.txt, data/N-basic removed", (t) => {
  const f = facts({ basic: record({ basic: true }), lists: ["stubborn"] });
  const p = planTransition({ facts: f, outcome: ok("full"), cfg, now, writer });
  t.deepEqual(p.removeFromLists, ["stubborn"]);
  t.deepEqual(p.removePaths, ["data/1234-basic"]);
  t.is(`${p.transition?.from} -> ${p.transition?.to}`, "fresh (basic) -> fresh");
  t.is(p.transition?.reason, "stubborn retry: full download succeeded");
});

test("stubborn basic success: writes data/N-basic, stays stubborn, a stale data/N goes", (t) => {
  const missing = planTransition({ facts: facts({ lists: ["stubborn", "missing"] }), outcome: ok("basic"), cfg, now, writer });
  t.is(missing.writeRecord, "basic");
  t.deepEqual(missing.removeFromLists, ["missing"]);
  t.deepEqual(missing.removePaths, []);
  t.is(`${missing.transition?.from} -> ${missing.transition?.to}`, "stubborn -> fresh (basic)");

  const withBroken = facts({ full: record({ valid: false, problems: ["pr_info.json does not parse"] }), lists: ["stubborn"] });
  t.deepEqual(planTransition({ facts: withBroken, outcome: ok("basic"), cfg, now, writer }).removePaths, ["data/1234"]);
  // A valid but older full record goes too: a PR never keeps both (DESIGN 4's post-merge check).
  const withOld = facts({ full: record(), lists: ["stubborn", "redownload"] });
  t.deepEqual(planTransition({ facts: withOld, outcome: ok("basic"), cfg, now, writer }).removePaths, ["data/1234"]);
});

test("a PR stubborn by its count but not listed joins the list with its basic data", (t) => {
  const f = facts({ lists: ["missing"], attempts: [1, 2, 3].map((i) => attemptFile(1234, i)) });
  const p = planTransition({ facts: f, outcome: ok("basic"), cfg, now, writer });
  t.deepEqual(p.addToLists, ["stubborn"]);
  t.is(p.transition?.to, "fresh (basic)");
});

test("a failure never loses the demand: a poll hit that failed gets listed", (t) => {
  const none = planTransition({ facts: facts(), outcome: fail("TimeoutError"), cfg, now, writer });
  t.deepEqual(none.addToLists, ["missing"]);
  t.is(`${none.transition?.from} -> ${none.transition?.to}`, "absent -> failing(1)");
  const withRecord = planTransition({ facts: facts({ full: record() }), outcome: fail("TimeoutError"), cfg, now, writer });
  t.deepEqual(withRecord.addToLists, ["redownload"]);
});

test("a leftover temp folder goes with the next success", (t) => {
  const p = planTransition({ facts: facts({ temp: true, lists: ["missing"] }), outcome: ok("full"), cfg, now, writer });
  t.deepEqual(p.removePaths, ["data/1234-temp", "data/1234-basic-temp"]);
});

test("errorClassOf names the class", (t) => {
  t.is(errorClassOf(new TimeoutError("x")), "TimeoutError");
  t.is(errorClassOf(new RateLimitError("x", 429)), "RateLimitError");
  t.is(errorClassOf("ServerError"), "ServerError");
  t.is(errorClassOf(42), "Error");
});

test("applyToList: the plan's list edits, legacy comments of the PR removed, other comments kept", (t) => {
  const text = "-- PRs with no data yet\n1234\n-- second attempt for 1234\n-- second attempt for 77\n77\n1234\n";
  const f = facts({ lists: ["missing"], attempts: [legacyAttempt] });
  const p = planTransition({ facts: f, outcome: ok("full"), cfg, now, writer });
  const failed = planTransition({ facts: facts({}, 99), outcome: fail("TimeoutError"), cfg, now, writer });
  t.is(serializeList(applyToList(parseList(text), "missing", [p, failed])), "-- PRs with no data yet\n-- second attempt for 77\n77\n99\n");
});

// Properties over arbitrary facts and outcomes.
const arbFacts = fc
  .record({
    full: fc.constantFrom<"none" | "valid" | "broken">("none", "valid", "broken"),
    basic: fc.constantFrom<"none" | "valid" | "broken">("none", "valid", "broken"),
    lists: fc.subarray<ListName>(["missing", "backfill", "redownload", "stubborn"]),
    attempts: fc.integer({ min: 0, max: 6 }),
    legacy: fc.boolean(),
    queued: fc.boolean(),
    temp: fc.boolean(),
  })
  .map((s): PrFacts => {
    const f = facts({
      lists: s.lists,
      temp: s.temp,
      attempts: [...Array.from({ length: s.attempts }, (_, i) => attemptFile(7, i)), ...(s.legacy ? [legacyAttempt] : [])],
      queued: s.queued ? [{ deliveryId: "q", event: "issue_comment", receivedAt: "2025-03-01T00:00:00Z", path: "state/queue/7/q.json" }] : [],
    }, 7);
    const rec = (kind: string, basic: boolean) => (kind === "valid" ? record({ basic }) : record({ basic, valid: false, problems: ["x"] }));
    if (s.full !== "none") f.full = rec(s.full, false);
    if (s.basic !== "none") f.basic = rec(s.basic, true);
    return f;
  });
const arbOutcome: fc.Arbitrary<DownloadOutcome> = fc.oneof(
  fc.constantFrom<DownloadOutcome>(ok("full"), ok("basic")),
  fc.record({ query: fc.constantFrom<"full" | "basic">("full", "basic"), error: fc.constantFrom<unknown>(new TimeoutError("t"), new ServerError("s", 502), new RateLimitError("r", 429)) }).map((o): DownloadOutcome => ({ ok: false, ...o })),
);

test("properties: lists never duplicated, successes end fresh without attempts, counted failures add exactly one attempt or make the PR stubborn", (t) => {
  fc.assert(
    fc.property(arbFacts, arbOutcome, (f, outcome) => {
      const p = planTransition({ facts: f, outcome, cfg, now, writer, queuePaths: f.queued.map((q) => q.path) });
      for (const l of p.addToLists) t.false(f.lists.has(l), `adds ${l} twice`);
      t.is(new Set(p.addToLists).size, p.addToLists.length);
      for (const l of p.removeFromLists) t.true(f.lists.has(l));
      const after = applyChanges(f, p);
      const state = derivePrState(after, cfg);
      if (outcome.ok) {
        t.is(state.name, "fresh");
        t.is(after.attempts.length, 0);
        t.false(after.full !== undefined && after.basic !== undefined, "one record only");
        t.false(after.lists.has("missing") || after.lists.has("backfill") || after.lists.has("redownload"));
      } else if (p.counted) {
        t.deepEqual(p.removePaths, [], "a failure never deletes data");
        if (p.becomesStubborn) t.true(after.lists.has("stubborn") && after.attempts.length === 0);
        else t.is(after.attempts.length, f.attempts.length + 1);
        t.not(state.name, "fresh");
      } else {
        t.true(isNoop(p));
      }
      if (p.transition) t.is(p.transition.to, stateLabel(state));
    }),
  );
});
