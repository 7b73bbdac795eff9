// Planning one cycle (DESIGN 3): classes and shares, fairness within a class, backoff,
// determinism, the stubborn retry, and invariants over arbitrary repos.
import test from "ava";
import fc from "fast-check";
import { DEFAULT_CONFIG, type Config } from "../src/config/config.js";
import type { ListName } from "../src/layout.js";
import { backoffDelayMs, isDue, nextDueAt } from "../src/state/backoff.js";
import type { AttemptFacts, PrFacts, RecordFacts } from "../src/state/pr-facts.js";
import { classShares, planCycle, WORK_CLASSES, type CyclePlan, type WorkClass, type WorkHint } from "../src/state/scheduler.js";
import { seededRandom } from "../src/simulator/seeded-random.js";

const cfg: Config = DEFAULT_CONFIG; // 100 downloads: events 35, integrity 20, missing 20, stubborn 10, backfill 15
const now = new Date("2025-03-01T12:00:00.000Z");
const HOUR = 3600_000;


const record = (over: Partial<RecordFacts> = {}): RecordFacts => ({ basic: false, valid: true, problems: [], state: "OPEN", ...over });

function attemptsAt(pr: number, times: Date[]): AttemptFacts[] {
  return times.map((d, i) => ({ at: d.toISOString(), writer: "w", errorClass: "TimeoutError", query: "full", path: `state/attempts/${pr}/${i}.json` }));
}

function pr(n: number, o: { lists?: ListName[]; full?: RecordFacts; basic?: RecordFacts; attempts?: AttemptFacts[] } = {}): PrFacts {
  const f: PrFacts = { pr: n, temp: false, lists: new Set(o.lists ?? []), attempts: o.attempts ?? [], queued: [] };
  if (o.full) f.full = o.full;
  if (o.basic) f.basic = o.basic;
  return f;
}

function repo(...fs: PrFacts[]): Map<number, PrFacts> {
  return new Map(fs.map((f) => [f.pr, f]));
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
const byClass = (plan: CyclePlan, c: WorkClass) => plan.items.filter((i) => i.class === c);

test("shares: the guarantees add up to maxDownloads with largest-remainder rounding", (t) => {
  t.deepEqual(classShares(cfg), { events: 35, integrity: 20, missing: 20, stubborn: 10, backfill: 15 });
  const seven = classShares({ ...cfg, budget: { ...cfg.budget, maxDownloads: 7 } });
  t.is(Object.values(seven).reduce((a, b) => a + b, 0), 7);
  t.deepEqual(seven, { events: 3, integrity: 1, missing: 1, stubborn: 1, backfill: 1 });
});

test("a flood of events cannot starve backfill (or any other class)", (t) => {
  const facts = repo(
    ...range(20_000, 50).map((n) => pr(n, { lists: ["backfill"] })),
    ...range(30_000, 30).map((n) => pr(n, { lists: ["missing"] })),
    ...range(40_000, 20).map((n) => pr(n, { lists: ["stubborn"] })),
  );
  const hints: WorkHint[] = range(1, 1000).map((n) => ({ pr: n, source: "event" }));
  const plan = planCycle({ facts, hints, now, cfg, random: seededRandom(1), stubbornRetryDue: false });
  t.is(plan.items.length, 100);
  t.is(byClass(plan, "backfill").length, 15);
  t.is(byClass(plan, "missing").length, 20);
  t.is(byClass(plan, "stubborn").length, 10);
  // The integrity class had nothing to do: its share flowed to the events.
  t.is(byClass(plan, "events").length, 55);
  t.deepEqual(plan.counts.events, { share: 35, candidates: 1000, planned: 55, deferred: 0, overBudget: 945 });
  t.true(byClass(plan, "stubborn").every((i) => i.query === "basic"));
});

test("unused shares flow to the others, in class order", (t) => {
  const facts = repo(...range(1, 200).map((n) => pr(n, { lists: ["backfill"] })), ...range(1000, 5).map((n) => pr(n, { lists: ["missing"] })));
  const plan = planCycle({ facts, hints: [], now, cfg, random: seededRandom(2), stubbornRetryDue: false });
  t.is(byClass(plan, "missing").length, 5);
  t.is(byClass(plan, "backfill").length, 95);
});

test("items interleave the classes, so a cycle stopped early has served every class", (t) => {
  const facts = repo(...range(20_000, 50).map((n) => pr(n, { lists: ["backfill"] })), ...range(40_000, 20).map((n) => pr(n, { lists: ["stubborn"] })));
  const hints: WorkHint[] = range(1, 500).map((n) => ({ pr: n, source: "poll" }));
  const plan = planCycle({ facts, hints, now, cfg, random: seededRandom(3), stubbornRetryDue: false });
  const firstTen = new Set(plan.items.slice(0, 10).map((i) => i.class));
  t.true(firstTen.has("backfill") && firstTen.has("stubborn") && firstTen.has("events"));
  // Each class's own order is kept within the interleaving.
  const backfill = byClass(plan, "backfill").map((i) => i.pr);
  t.is(backfill.length, 15);
});

test("a PR that always fails stays behind the ones that never failed", (t) => {
  const old = new Date(now.getTime() - 48 * HOUR);
  const failing = pr(5, { lists: ["missing"], attempts: attemptsAt(5, [old, old]) });
  const facts = repo(failing, ...range(100, 40).map((n) => pr(n, { lists: ["missing"] })));
  const small = { ...cfg, budget: { ...cfg.budget, maxDownloads: 10 } };
  const plan = planCycle({ facts, hints: [], now, cfg: small, random: seededRandom(4), stubbornRetryDue: false });
  t.is(plan.items.length, 10);
  t.false(plan.items.some((i) => i.pr === 5));
  // With room for everyone it comes last.
  const all = planCycle({ facts, hints: [], now, cfg, random: seededRandom(4), stubbornRetryDue: false });
  t.is(all.items.at(-1)!.pr, 5);
  t.is(all.items.at(-1)!.attempts, 2);
});

test("equal attempts: the longest since the last attempt goes first", (t) => {
  const facts = repo(
    pr(1, { lists: ["missing"], attempts: attemptsAt(1, [new Date(now.getTime() - 2 * HOUR)]) }),
    pr(2, { lists: ["missing"], attempts: attemptsAt(2, [new Date(now.getTime() - 30 * HOUR)]) }),
    pr(3, { lists: ["missing"], attempts: attemptsAt(3, [new Date(now.getTime() - 10 * HOUR)]) }),
  );
  const plan = planCycle({ facts, hints: [], now, cfg, random: seededRandom(5), stubbornRetryDue: false });
  t.deepEqual(plan.items.map((i) => i.pr), [2, 3, 1]);
});

test("backoff defers a PR until it is due, and reports when", (t) => {
  const at = new Date(now.getTime() - 60_000);
  const facts = repo(pr(7, { lists: ["missing"], attempts: attemptsAt(7, [at]) }), pr(8, { lists: ["missing"] }));
  const plan = planCycle({ facts, hints: [{ pr: 7, source: "event" }], now, cfg, random: seededRandom(6), stubbornRetryDue: false });
  t.deepEqual(plan.items.map((i) => i.pr), [8]);
  t.is(plan.deferred.length, 1);
  t.is(plan.deferred[0]!.pr, 7);
  t.is(plan.deferred[0]!.class, "events");
  const due = plan.deferred[0]!.dueAt.getTime() - at.getTime();
  t.true(due >= 0.8 * 300_000 && due <= 300_000, `first backoff ${due} ms`);
  const later = planCycle({ facts, hints: [], now: new Date(at.getTime() + 300_001), cfg, random: seededRandom(6), stubbornRetryDue: false });
  t.deepEqual(later.items.map((i) => i.pr).sort(), [7, 8]);
});

test("backoff: exponential, capped, with the same jitter for every writer", (t) => {
  const base = cfg.thresholds.backoffBaseSeconds * 1000;
  const cap = cfg.thresholds.backoffCapSeconds * 1000;
  for (let k = 1; k <= 12; k++) {
    const d = backoffDelayMs(k, cfg, 4197);
    const raw = Math.min(cap, base * 2 ** (k - 1));
    t.true(d <= raw && d >= 0.8 * raw, `k=${k}`);
    t.is(d, backoffDelayMs(k, cfg, 4197), "deterministic");
  }
  t.not(backoffDelayMs(3, cfg, 1), backoffDelayMs(3, cfg, 2), "different PRs spread out");
  t.is(nextDueAt([], cfg, 1), undefined);
  // Legacy comments have no real time: they never hold a PR back.
  const legacy: AttemptFacts[] = [{ at: "1970-01-01T00:00:00.000Z", writer: "legacy", errorClass: "legacy", query: "full" }];
  t.true(isDue(legacy, cfg, 1, now));
});

test("deterministic with a seeded random; ties are broken at random", (t) => {
  const facts = repo(...range(1, 60).map((n) => pr(n, { lists: ["backfill"] })));
  const small = { ...cfg, budget: { ...cfg.budget, maxDownloads: 10 } };
  const plan = (seed: number) => planCycle({ facts, hints: [], now, cfg: small, random: seededRandom(seed), stubbornRetryDue: false }).items.map((i) => i.pr);
  t.deepEqual(plan(11), plan(11));
  const distinct = new Set([11, 12, 13, 14].map((s) => plan(s).join(",")));
  t.true(distinct.size > 1);
  // Map insertion order does not matter, only the seed.
  const reversed = new Map([...facts].reverse());
  t.deepEqual(planCycle({ facts: reversed, hints: [], now, cfg: small, random: seededRandom(11), stubbornRetryDue: false }).items.map((i) => i.pr), plan(11));
});

test("the stubborn retry picks a few stubborn PRs for a full download, open ones first", (t) => {
  const facts = repo(
    ...range(1, 40).map((n) => pr(n, { lists: ["stubborn"], basic: record({ basic: true, state: n <= 35 ? "CLOSED" : "OPEN" }) })),
    ...range(100, 4).map((n) => pr(n, { lists: ["stubborn"] })),
  );
  const off = planCycle({ facts, hints: [], now, cfg, random: seededRandom(7), stubbornRetryDue: false });
  t.is(off.items.filter((i) => i.stubbornRetry).length, 0);
  t.deepEqual(off.items.map((i) => i.pr).sort((a, b) => a - b), [100, 101, 102, 103], "only stubborn PRs without data need their basic download");

  const on = planCycle({ facts, hints: [], now, cfg, random: seededRandom(7), stubbornRetryDue: true });
  const retry = on.items.filter((i) => i.stubbornRetry);
  t.is(retry.length, cfg.thresholds.stubbornRetryCount);
  t.true(retry.every((i) => i.query === "full" && i.class === "stubborn"));
  t.true(retry.every((i) => i.pr >= 36), "PRs open in their record (or without one) first");
  // The PRs without data are planned either way: by the retry or for their basic download.
  t.deepEqual(on.items.map((i) => i.pr).filter((n) => n >= 100).sort((a, b) => a - b), [100, 101, 102, 103]);
  t.is(on.items.length, 4 + retry.filter((i) => i.pr < 100).length);
});

test("a PR appears once, in its highest class; each item names its query", (t) => {
  const facts = repo(
    pr(1, { lists: ["missing", "backfill", "redownload"] }),
    pr(2, { lists: ["stubborn", "missing"] }),
    pr(3, { full: record() }),
    pr(4, {}),
    pr(5, { full: record({ state: "CLOSED" }) }),
    pr(6, { full: record(), lists: ["redownload"] }),
  );
  const hints: WorkHint[] = [
    { pr: 1, source: "event", queuePaths: ["state/queue/1/a.json"] },
    { pr: 1, source: "poll" },
    { pr: 2, source: "event", query: "full" },
    { pr: 3, source: "event", query: "basic" },
    { pr: 4, source: "event", query: "basic" },
    { pr: 5, source: "event" },
    { pr: 6, source: "integrity" },
  ];
  const plan = planCycle({ facts, hints, now, cfg, random: seededRandom(8), stubbornRetryDue: false });
  const by = new Map(plan.items.map((i) => [i.pr, i]));
  t.is(plan.items.length, 6);
  t.is(by.get(1)!.class, "events");
  t.deepEqual(by.get(1)!.queuePaths, ["state/queue/1/a.json"]);
  t.is(by.get(2)!.query, "basic", "stubborn PRs use the basic query whatever the hint");
  t.is(by.get(3)!.query, "basic", "a basic-enough hint refreshes a full record");
  t.is(by.get(4)!.query, "full", "no full record to refresh: full query");
  t.is(by.get(5)!.class, "integrity", "an event on a PR closed in its record");
  t.is(by.get(6)!.class, "integrity");
  t.is(by.get(6)!.state.name, "outdated");
});

test("nothing to do for fresh PRs, satisfied entries and stubborn PRs with data", (t) => {
  const facts = repo(pr(1, { full: record() }), pr(2, { full: record(), lists: ["missing"] }), pr(3, { lists: ["stubborn"], basic: record({ basic: true }) }));
  const plan = planCycle({ facts, hints: [], now, cfg, random: seededRandom(9), stubbornRetryDue: false });
  t.deepEqual(plan.items, []);
  t.deepEqual(plan.deferred, []);
});

test("a PR that failed and no list names is retried in its class", (t) => {
  const old = [new Date(now.getTime() - 48 * HOUR)];
  const facts = repo(pr(1, { attempts: attemptsAt(1, old) }), pr(2, { full: record(), attempts: attemptsAt(2, old) }));
  const plan = planCycle({ facts, hints: [], now, cfg, random: seededRandom(10), stubbornRetryDue: false });
  t.deepEqual(plan.items.map((i) => [i.pr, i.class]).sort(), [[1, "missing"], [2, "integrity"]]);
});

// Invariants over arbitrary repos.
const arbPr = fc.record({
  lists: fc.subarray<ListName>(["missing", "backfill", "redownload", "stubborn"]),
  record: fc.constantFrom("none", "full", "basic", "closed"),
  attempts: fc.integer({ min: 0, max: 4 }),
  recent: fc.boolean(),
  hint: fc.constantFrom<WorkHint["source"] | "none">("none", "event", "poll", "integrity"),
});

test("properties: each PR once, within budget, deferred never planned, every class gets min(share, candidates)", (t) => {
  fc.assert(
    fc.property(fc.array(arbPr, { maxLength: 60 }), fc.integer({ min: 1, max: 30 }), fc.boolean(), fc.integer(), (specs, maxDownloads, retry, seed) => {
      const c: Config = { ...cfg, budget: { ...cfg.budget, maxDownloads } };
      const facts = new Map<number, PrFacts>();
      const hints: WorkHint[] = [];
      specs.forEach((s, i) => {
        const n = i + 1;
        const when = new Date(now.getTime() - (s.recent ? 60_000 : 48 * HOUR));
        const f = pr(n, { lists: s.lists, attempts: attemptsAt(n, Array.from({ length: s.attempts }, () => when)) });
        if (s.record === "full") f.full = record();
        if (s.record === "closed") f.full = record({ state: "CLOSED" });
        if (s.record === "basic") f.basic = record({ basic: true });
        facts.set(n, f);
        if (s.hint !== "none") hints.push({ pr: n, source: s.hint });
      });
      const plan = planCycle({ facts, hints, now, cfg: c, random: seededRandom(seed), stubbornRetryDue: retry });
      const prs = plan.items.map((i) => i.pr);
      t.is(new Set(prs).size, prs.length);
      t.true(prs.length <= maxDownloads);
      const deferred = new Set(plan.deferred.map((d) => d.pr));
      t.false(prs.some((p) => deferred.has(p)));
      for (const d of plan.deferred) t.true(d.dueAt.getTime() > now.getTime());
      let candidates = 0;
      for (const k of WORK_CLASSES) {
        const count = plan.counts[k];
        candidates += count.candidates;
        t.true(count.planned >= Math.min(count.share, count.candidates), k);
        t.is(byClass(plan, k).length, count.planned);
      }
      t.is(prs.length, Math.min(maxDownloads, candidates), "no slot is wasted while work waits");
      if (!retry) t.false(plan.items.some((i) => i.stubbornRetry));
    }),
  );
});
