// The derived PR state (DESIGN 2): a table of file situations with the state each must give,
// precedence where facts overlap, labels, and properties over arbitrary facts.
import test from "ava";
import fc from "fast-check";
import { DEFAULT_CONFIG, type Config } from "../src/config/config.js";
import type { ListName } from "../src/layout.js";
import type { AttemptFacts, PrFacts, RecordFacts } from "../src/state/pr-facts.js";
import { derivePrState, parseStateLabel, stateLabel, validRecord, type PrState } from "../src/state/pr-state.js";

const cfg: Config = DEFAULT_CONFIG; // attemptsMissing 3, attemptsRedownload 5

const record = (over: Partial<RecordFacts> = {}): RecordFacts => ({ basic: false, valid: true, problems: [], ...over });

function attempts(pr: number, n: number, legacy = 0): AttemptFacts[] {
  const files = Array.from({ length: n }, (_, i) => ({
    at: `2025-01-01T0${i}:00:00.000Z`,
    writer: "w",
    errorClass: "TimeoutError",
    query: "full" as const,
    path: `state/attempts/${pr}/2025-01-01T0${i}-00-00.000Z-w.json`,
  }));
  const old = Array.from({ length: legacy }, () => ({ at: "1970-01-01T00:00:00.000Z", writer: "legacy-missing-list", errorClass: "legacy", query: "full" as const }));
  return [...files, ...old];
}

interface Spec {
  full?: Partial<RecordFacts>;
  basic?: Partial<RecordFacts>;
  lists?: ListName[];
  attempts?: number;
  legacy?: number;
  queued?: number;
  temp?: boolean;
}

function facts(s: Spec, pr = 100): PrFacts {
  const f: PrFacts = {
    pr,
    temp: s.temp ?? false,
    lists: new Set(s.lists ?? []),
    attempts: attempts(pr, s.attempts ?? 0, s.legacy ?? 0),
    queued: Array.from({ length: s.queued ?? 0 }, (_, i) => ({ deliveryId: `d${i}`, event: "pull_request", action: "labeled", receivedAt: "2025-01-01T00:00:00Z", path: `state/queue/${pr}/d${i}.json` })),
  };
  if (s.full) f.full = record(s.full);
  if (s.basic) f.basic = record({ basic: true, ...s.basic });
  return f;
}

const broken = { valid: false, problems: ["pr_info.json does not parse"] };

const TABLE: [string, Spec, string][] = [
  ["nothing", {}, "absent"],
  ["only a leftover temp folder", { temp: true }, "absent"],
  ["listed missing, no record", { lists: ["missing"] }, "missing"],
  ["listed for backfill, no record", { lists: ["backfill"] }, "missing"],
  ["listed for re-download but no record", { lists: ["redownload"] }, "missing"],
  ["queued, no record", { queued: 1 }, "missing"],
  ["broken record, not listed", { full: broken }, "missing"],
  ["valid record", { full: {} }, "fresh"],
  ["valid basic record only", { basic: {} }, "fresh (basic)"],
  ["valid record still listed missing (satisfied entry)", { full: {}, lists: ["missing"] }, "fresh"],
  ["valid record, broken basic next to it", { full: {}, basic: broken }, "fresh"],
  ["valid record listed for re-download", { full: {}, lists: ["redownload"] }, "outdated"],
  ["valid record with a queued event", { full: {}, queued: 2 }, "outdated"],
  ["2 attempts without data", { attempts: 2, lists: ["missing"] }, "failing(2)"],
  ["1 attempt file + 1 legacy comment", { attempts: 1, legacy: 1, lists: ["missing"] }, "failing(2)"],
  ["failing re-download keeps its record", { full: {}, attempts: 4, lists: ["redownload"] }, "failing(4)"],
  ["failing beats missing", { attempts: 1, lists: ["missing", "backfill"] }, "failing(1)"],
  ["stubborn without data", { lists: ["stubborn"] }, "stubborn"],
  ["stubborn with a valid basic record, nothing asked: fresh (basic)", { basic: {}, lists: ["stubborn"] }, "fresh (basic)"],
  ["stubborn with a valid full record, nothing asked", { full: {}, lists: ["stubborn"] }, "fresh"],
  ["stubborn, basic record, listed for re-download", { basic: {}, lists: ["stubborn", "redownload"] }, "stubborn"],
  ["stubborn, basic record, a failed basic attempt", { basic: {}, lists: ["stubborn"], attempts: 1 }, "stubborn"],
  ["stubborn beats failing and missing", { lists: ["stubborn", "missing"], attempts: 2 }, "stubborn"],
  ["threshold reached without a record, list not caught up", { attempts: 3, lists: ["missing"] }, "stubborn"],
  ["threshold for re-downloads is higher", { full: {}, attempts: 3, lists: ["redownload"] }, "failing(3)"],
  ["re-download threshold reached", { full: {}, attempts: 5, lists: ["redownload"] }, "stubborn"],
];

for (const [name, spec, expected] of TABLE) {
  test(`state: ${name} -> ${expected}`, (t) => {
    t.is(stateLabel(derivePrState(facts(spec), cfg)), expected);
  });
}

test("thresholds come from the config", (t) => {
  const strict: Config = { ...cfg, thresholds: { ...cfg.thresholds, attemptsMissing: 1 } };
  t.is(stateLabel(derivePrState(facts({ attempts: 1, lists: ["missing"] }), strict)), "stubborn");
  t.is(stateLabel(derivePrState(facts({ attempts: 1, lists: ["missing"] }), cfg)), "failing(1)");
});

test("validRecord: the newer of two valid records stands for the PR, a full one wins a tie", (t) => {
  const older = { updatedAt: "2025-01-01T00:00:00Z", fetchedAt: "2025-01-01T00:01:00Z" };
  const newer = { updatedAt: "2025-01-02T00:00:00Z", fetchedAt: "2025-01-02T00:01:00Z" };
  t.true(validRecord(facts({ full: older, basic: newer }))!.basic);
  t.false(validRecord(facts({ full: newer, basic: older }))!.basic);
  t.false(validRecord(facts({ full: older, basic: older }))!.basic);
  // Same updatedAt (a CI change): the later fetch wins.
  t.true(validRecord(facts({ full: older, basic: { ...older, fetchedAt: "2025-01-01T00:05:00Z" } }))!.basic);
  t.is(validRecord(facts({ full: broken })), undefined);
});

const arbState: fc.Arbitrary<PrState> = fc.oneof(
  fc.constantFrom<PrState>({ name: "absent" }, { name: "missing" }, { name: "outdated" }, { name: "stubborn" }, { name: "fresh", basic: true }, { name: "fresh", basic: false }),
  fc.integer({ min: 1, max: 999 }).map((attempts): PrState => ({ name: "failing", attempts })),
);

test("labels read back to the same state", (t) => {
  fc.assert(fc.property(arbState, (s) => t.deepEqual(parseStateLabel(stateLabel(s)), s)));
  t.is(parseStateLabel("failing(0)"), undefined);
  t.is(parseStateLabel("bogus"), undefined);
});

const arbRecord = fc.option(fc.record({ valid: fc.boolean() }).map((r) => (r.valid ? {} : broken)), { nil: undefined });
const arbSpec: fc.Arbitrary<Spec> = fc.record({
  full: arbRecord,
  basic: arbRecord,
  lists: fc.subarray<ListName>(["missing", "backfill", "redownload", "stubborn"]),
  attempts: fc.integer({ min: 0, max: 7 }),
  legacy: fc.integer({ min: 0, max: 2 }),
  queued: fc.integer({ min: 0, max: 2 }),
  temp: fc.boolean(),
});

test("properties: fresh needs a valid record, absent means no file names the PR, failing stays below the threshold", (t) => {
  fc.assert(
    fc.property(arbSpec, (spec) => {
      const f = facts(spec);
      const s = derivePrState(f, cfg);
      if (s.name === "fresh") t.truthy(validRecord(f));
      if (s.name === "outdated") t.truthy(validRecord(f));
      const named = f.lists.size > 0 || f.attempts.length > 0 || f.queued.length > 0 || f.full !== undefined || f.basic !== undefined;
      t.is(s.name === "absent", !named);
      if (s.name === "failing") {
        t.is(s.attempts, f.attempts.length);
        t.true(s.attempts < (validRecord(f) ? cfg.thresholds.attemptsRedownload : cfg.thresholds.attemptsMissing));
      }
      if (f.lists.has("stubborn")) t.true(s.name === "stubborn" || s.name === "fresh");
    }),
  );
});
