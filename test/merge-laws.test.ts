// The laws of DESIGN section 4, as properties over generated inputs, plus the concrete rules
// of the record and time choices on real fixture records.
import test from "ava";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LIST_FILES } from "../src/layout.js";
import { listEntries, parseList, serializeList, type ListLine } from "../src/lists/list-file.js";
import { DRIVER_STRATEGIES, mergeForPath, strategyForPath } from "../src/merge/merge-for-path.js";
import { chooseRecord } from "../src/merge/record-choice.js";
import { isRecordDoc, recordFetchedAt, recordUpdatedAt } from "../src/merge/record-meta.js";
import { mergeLists } from "../src/merge/set-merge.js";
import { chooseTimestamp, chooseWatermark, mergeChecks } from "../src/merge/time-choice.js";

const FIXTURES = join(process.cwd(), "fixtures");
const fixture = (path: string) => readFileSync(join(FIXTURES, path), "utf8");

// ---------------------------------------------------------------- list generators

// A small alphabet so that the sides often touch the same lines.
const token = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 12 }).map(String) },
  { weight: 2, arbitrary: fc.constantFrom("-- a", "-- b", "-- second attempt for 3") },
  { weight: 2, arbitrary: fc.constant("") },
  { weight: 1, arbitrary: fc.constantFrom("x", " 7 ") },
);
const baseLines = fc.array(token, { maxLength: 14 });

/** A side derived from the base by keeping some lines and inserting some, or an unrelated list. */
function sideOf(base: string[]): fc.Arbitrary<string[]> {
  const edited = fc
    .tuple(fc.array(fc.boolean(), { minLength: base.length, maxLength: base.length }), fc.array(fc.tuple(fc.nat(base.length), token), { maxLength: 5 }))
    .map(([keep, inserts]) => {
      const out: string[][] = base.map((line, i) => (keep[i] ? [line] : []));
      out.push([]);
      for (const [at, line] of inserts) out[at]!.unshift(line);
      return out.flat();
    });
  return fc.oneof({ weight: 5, arbitrary: edited }, { weight: 1, arbitrary: fc.constant(base) }, { weight: 1, arbitrary: fc.array(token, { maxLength: 10 }) });
}

const render = fc.record({ eol: fc.constantFrom("\n", "\r\n"), final: fc.boolean() });
const text = (lines: string[], r: { eol: string; final: boolean }) => (lines.length === 0 ? "" : lines.join(r.eol) + (r.final ? r.eol : ""));

const triple = baseLines.chain((o) =>
  fc.tuple(fc.constant(o), sideOf(o), sideOf(o), render, render, render).map(([o, a, b, ro, ra, rb]) => ({
    O: text(o, ro),
    A: text(a, ra),
    B: text(b, rb),
  })),
);

const entries = (t: string) => new Set(listEntries(parseList(t)));
const key = (l: ListLine) => (l.type === "entry" ? `#${l.pr}` : l.raw.trim());
function counts(t: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of parseList(t).lines) if (l.type === "comment" || l.type === "invalid") m.set(key(l), (m.get(key(l)) ?? 0) + 1);
  return m;
}
const RUNS = { numRuns: 3000 };

// ---------------------------------------------------------------- set merge laws

test("set merge is symmetric byte for byte: merge(O,A,B) === merge(O,B,A)", (t) => {
  fc.assert(fc.property(triple, ({ O, A, B }) => mergeLists(O, A, B) === mergeLists(O, B, A)), RUNS);
  t.pass();
});

test("set merge identities: merge(O,A,A)=A, merge(O,O,B)=B, merge(O,A,O)=A", (t) => {
  fc.assert(
    fc.property(triple, ({ O, A, B }) => mergeLists(O, A, A) === A && mergeLists(O, O, B) === B && mergeLists(O, A, O) === A),
    RUNS,
  );
  t.pass();
});

test("set merge entries are exactly (A and B) plus what either side added; removals stick", (t) => {
  fc.assert(
    fc.property(triple, ({ O, A, B }) => {
      const [o, a, b] = [entries(O), entries(A), entries(B)];
      const expected = [...new Set([...a, ...b])].filter((n) => (a.has(n) && b.has(n)) || !o.has(n));
      const got = entries(mergeLists(O, A, B));
      return got.size === expected.length && expected.every((n) => got.has(n));
    }),
    RUNS,
  );
  t.pass();
});

test("set merge collapses duplicates whenever both sides changed", (t) => {
  fc.assert(
    fc.property(triple, ({ O, A, B }) => {
      fc.pre(A !== B && A !== O && B !== O);
      const lines = parseList(mergeLists(O, A, B)).lines.filter((l) => l.type === "entry");
      return new Set(lines.map(key)).size === lines.length;
    }),
    RUNS,
  );
  t.pass();
});

test("comments: one a side added survives, one a side deleted stays deleted", (t) => {
  fc.assert(
    fc.property(triple, ({ O, A, B }) => {
      const [o, a, b, r] = [counts(O), counts(A), counts(B), counts(mergeLists(O, A, B))];
      for (const k of new Set([...a.keys(), ...b.keys(), ...o.keys()])) {
        const [co, ca, cb, cr] = [o.get(k) ?? 0, a.get(k) ?? 0, b.get(k) ?? 0, r.get(k) ?? 0];
        if ((ca > co || cb > co) && cr < 1) return false; // an addition was lost
        if (co > 0 && ca === 0 && cb <= co && cr !== 0) return false; // a deletion came back
        if (co > 0 && cb === 0 && ca <= co && cr !== 0) return false;
      }
      return true;
    }),
    RUNS,
  );
  t.pass();
});

test("set merge output holds only lines from its inputs and reparses to itself", (t) => {
  fc.assert(
    fc.property(triple, ({ O, A, B }) => {
      const known = new Set([O, A, B].flatMap((x) => parseList(x).lines.map(key)));
      const merged = mergeLists(O, A, B);
      return parseList(merged).lines.every((l) => known.has(key(l))) && serializeList(parseList(merged)) === merged;
    }),
    RUNS,
  );
  t.pass();
});

test("set merge: concrete cases keep headers with their numbers and keep base order", (t) => {
  const O = "-- header\n1\n2\n3\n";
  t.is(mergeLists(O, "-- header\n1\n2\n3\n4\n5\n", "-- header\n1\n3\n"), "-- header\n1\n3\n4\n5\n");
  // Both append a block at the end: each block stays whole, ordered by content, not by side.
  const A = O + "-- batch b\n20\n";
  const B = O + "-- batch a\n10\n";
  t.is(mergeLists(O, A, B), O + "-- batch a\n10\n-- batch b\n20\n");
  // Both append overlapping entries: common ones once.
  t.is(mergeLists("5\n", "5\n1\n2\n3\n", "5\n2\n3\n4\n"), "5\n1\n2\n3\n4\n");
  // A comment one side deleted stays deleted; the same legacy comment added twice appears once.
  t.is(mergeLists(O, "1\n2\n3\n", O + "9\n"), "1\n2\n3\n9\n");
  t.is(mergeLists("1\n", "1\n-- second attempt for 1\n", "-- second attempt for 1\n1\n7\n"), "-- second attempt for 1\n1\n7\n");
  // CRLF: "123\r" and "123" are the same entry; line endings stay the base's.
  t.is(mergeLists("1\r\n2\r\n", "1\n2\n3\n", "2\r\n"), "2\r\n3\r\n");
  // Both sides switched to CRLF the same way: the result follows them.
  t.is(mergeLists("1\n2\n", "1\r\n2\r\n3\r\n", "2\r\n"), "2\r\n3\r\n");
});

test("set merge on the real stubborn list: 83 duplicates removed by one side, comment block added by the other", (t) => {
  const O = fixture("lists/stubborn_prs.02a49d79.txt");
  const A = O + "-- second attempt for 30005\n30005\n";
  const B = serializeList({ ...parseList(O), lines: parseList(O).lines.filter((l) => !(l.type === "entry" && l.pr === 16023)) });
  const merged = mergeLists(O, A, B);
  t.is(merged, B + "-- second attempt for 30005\n30005\n");
  t.is(mergeLists(O, B, A), merged);
});

// ---------------------------------------------------------------- records

const RECORD_19055 = fixture("data/19055/pr_info.json");
const RECORD_19055_NEWER = fixture("versions/19055/pr_info.4d3543b9.json");

test("record meta reads updatedAt, the fetch stamp and the record shape", (t) => {
  const doc = JSON.parse(RECORD_19055);
  t.true(isRecordDoc(doc));
  t.is(recordUpdatedAt(doc), "2024-11-14T22:48:34Z");
  t.is(recordFetchedAt(doc), undefined);
  t.is(recordFetchedAt({ ...doc, prstate: { fetchedAt: "2024-11-14T22:51:00Z" } }), "2024-11-14T22:51:00Z");
  t.false(isRecordDoc({ ...doc, errors: [{ message: "timeout" }] }));
  t.false(isRecordDoc({ data: { repository: { pullRequest: null } } }));
  t.false(isRecordDoc([]));
  t.false(isRecordDoc(null));
});

test("record choice: the newer updatedAt wins in both directions (real records)", (t) => {
  t.deepEqual(chooseRecord(RECORD_19055, RECORD_19055_NEWER), { winner: "theirs" });
  t.deepEqual(chooseRecord(RECORD_19055_NEWER, RECORD_19055), { winner: "ours" });
  for (const path of ["data/20000/pr_info.json", "data/4197-basic/basic_pr_info.json", "data/15000/pr_reactions.json"]) {
    const valid = fixture(path);
    t.deepEqual(chooseRecord(valid, valid.slice(0, 100)), { winner: "ours" }, path);
    t.deepEqual(chooseRecord(null, valid), { winner: "theirs" }, path);
  }
  t.true("error" in chooseRecord("{", '{"errors":[]}'));
  t.true("error" in chooseRecord(null, null));
});

test("record choice compares instants, not strings; equal updatedAt falls to the fetch stamp", (t) => {
  const rec = (updatedAt: string | undefined, fetchedAt?: string, extra = "") =>
    JSON.stringify({ data: { repository: { pullRequest: { number: 1, updatedAt, extra } } }, ...(fetchedAt ? { prstate: { fetchedAt } } : {}) });
  // 23:00+01:00 is 22:00Z, older than 22:30Z although it sorts later as a string.
  t.deepEqual(chooseRecord(rec("2024-11-14T23:00:00+01:00"), rec("2024-11-14T22:30:00Z")), { winner: "theirs" });
  t.deepEqual(chooseRecord(rec("2024-11-14T22:00:00Z", "2024-11-14T22:05:00Z"), rec("2024-11-14T23:00:00+01:00", "2024-11-14T22:01:00Z")), { winner: "ours" });
  t.deepEqual(chooseRecord(rec(undefined), rec("2024-01-01T00:00:00Z")), { winner: "theirs" });
  t.deepEqual(chooseRecord(rec("not a date"), rec("2024-01-01T00:00:00Z")), { winner: "theirs" });
});

const instant = fc.constantFrom("2024-11-14T22:00:00Z", "2024-11-14T23:00:00+01:00", "2024-11-14T22:30:00Z", "2024-11-15T00:00:00.000Z", "garbage", undefined);
const recordText = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(instant, instant, fc.nat(3)).map(([u, f, n]) => JSON.stringify({ data: { repository: { pullRequest: { number: n, updatedAt: u } } }, ...(f ? { prstate: { fetchedAt: f } } : {}) })) },
  { weight: 1, arbitrary: fc.constantFrom("{", "", '{"errors":[{"type":"TIMEOUT"}],"data":null}', '{"data":{"repository":{"pullRequest":null}}}') },
  { weight: 1, arbitrary: fc.constant(null) },
);

test("record choice never depends on which side is ours", (t) => {
  fc.assert(
    fc.property(recordText, recordText, (x, y) => {
      const pick = (c: ReturnType<typeof chooseRecord>, ours: string | null, theirs: string | null) => ("error" in c ? "error" : c.winner === "ours" ? ours : theirs);
      return pick(chooseRecord(x, y), x, y) === pick(chooseRecord(y, x), y, x);
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

test("record merge via mergeForPath: symmetric, and a valid record beats a deletion", (t) => {
  const path = "data/19055/pr_info.json";
  const buf = (s: string | null) => (s === null ? null : Buffer.from(s));
  fc.assert(
    fc.property(recordText, recordText, recordText, (o, a, b) => {
      const x = mergeForPath(path, buf(o), buf(a), buf(b));
      const y = mergeForPath(path, buf(o), buf(b), buf(a));
      if (!x.ok || !y.ok) return x.ok === y.ok;
      return x.content === null ? y.content === null : y.content !== null && x.content.equals(y.content);
    }),
    { numRuns: 2000 },
  );
  const base = Buffer.from(RECORD_19055);
  const fresh = Buffer.from(RECORD_19055_NEWER);
  t.deepEqual(mergeForPath(path, base, null, fresh), { ok: true, content: fresh }, "fresh download beats a removal");
  t.deepEqual(mergeForPath(path, base, fresh, null), { ok: true, content: fresh });
  t.deepEqual(mergeForPath(path, base, Buffer.from("{broken"), null), { ok: true, content: null }, "removal beats a broken file");
  t.deepEqual(mergeForPath(path, null, base, fresh), { ok: true, content: fresh }, "add/add");
  t.deepEqual(mergeForPath(path, base, null, null), { ok: true, content: null }, "delete/delete");
  t.false(mergeForPath(path, base, Buffer.from("{"), Buffer.from("[")).ok);
});

// ---------------------------------------------------------------- times

test("timestamp choice: newest instant wins, unparseable loses, both directions agree", (t) => {
  t.deepEqual(chooseTimestamp("2024-11-14T22:51:00Z\n", "2024-11-14T23:30:00Z\n"), { winner: "theirs" });
  t.deepEqual(chooseTimestamp("2024-11-14T23:30:00Z\n", "2024-11-14T22:51:00Z\n"), { winner: "ours" });
  t.deepEqual(chooseTimestamp("2024-11-15T00:10:00+01:00\n", "2024-11-14T23:30:00Z\n"), { winner: "theirs" });
  t.deepEqual(chooseTimestamp("yesterday\n", "2024-11-14T22:51:00Z\n"), { winner: "theirs" });
  t.true("error" in chooseTimestamp("", "Nov 14 2024"));
  fc.assert(
    fc.property(instant, instant, (x, y) => {
      const [a, b] = [`${x}\n`, `${y}\n`];
      const p = chooseTimestamp(a, b);
      const q = chooseTimestamp(b, a);
      if ("error" in p || "error" in q) return "error" in p && "error" in q;
      return (p.winner === "ours" ? a : b) === (q.winner === "ours" ? b : a);
    }),
  );
});

test("watermark choice: the newer updatedAt wins whole", (t) => {
  const w = (u: string) => JSON.stringify({ updatedAt: u, cursor: u.length });
  t.deepEqual(chooseWatermark(w("2025-03-19T20:00:00Z"), w("2025-03-19T20:47:50Z")), { winner: "theirs" });
  t.deepEqual(chooseWatermark(w("2025-03-19T20:47:50Z"), "{}"), { winner: "ours" });
  t.true("error" in chooseWatermark("[]", "x"));
});

test("checks merge: per job, newest time wins; symmetric; equal results keep a side's bytes", (t) => {
  const base = JSON.stringify({ paranoid: "2025-03-19T00:00:00Z", stubborn: "2025-03-18T00:00:00Z" }, null, 2) + "\n";
  const ours = JSON.stringify({ paranoid: "2025-03-20T00:00:00Z", stubborn: "2025-03-18T00:00:00Z" }, null, 2) + "\n";
  const theirs = JSON.stringify({ paranoid: "2025-03-19T12:00:00Z", stubborn: "2025-03-19T06:00:00Z", audit: "2025-03-19T07:00:00Z" }, null, 2) + "\n";
  const merged = mergeChecks(base, ours, theirs);
  t.deepEqual(JSON.parse((merged as { content: string }).content), {
    audit: "2025-03-19T07:00:00Z",
    paranoid: "2025-03-20T00:00:00Z",
    stubborn: "2025-03-19T06:00:00Z",
  });
  t.deepEqual(mergeChecks(base, theirs, ours), merged);
  t.deepEqual(mergeChecks(base, ours, base), { content: ours });
  t.deepEqual(mergeChecks(base, "not json", theirs), { content: theirs });
  t.true("error" in mergeChecks(base, "[", "]"));

  const job = fc.constantFrom("paranoid", "stubborn", "audit");
  const obj = fc.dictionary(job, instant.filter((x) => x !== undefined) as fc.Arbitrary<string>).map((d) => JSON.stringify(d));
  fc.assert(fc.property(obj, obj, obj, (o, a, b) => JSON.stringify(mergeChecks(o, a, b)) === JSON.stringify(mergeChecks(o, b, a))), { numRuns: 1000 });
});

// ---------------------------------------------------------------- dispatch

test("mergeForPath dispatches by path and handles absent sides", (t) => {
  const list = (s: string) => Buffer.from(s);
  const merged = mergeForPath("missing_prs.txt", list("1\n2\n"), list("1\n2\n3\n"), list("2\n"));
  t.deepEqual(merged, { ok: true, content: list("2\n3\n") });
  t.deepEqual(mergeForPath("redownload.txt", null, list("1\n"), list("2\n")), { ok: true, content: list("1\n2\n") }, "add/add");
  t.deepEqual(mergeForPath("missing_prs.txt", list("1\n"), null, list("1\n2\n")), { ok: true, content: list("1\n2\n") }, "modified list beats deletion");
  // Bytes that are not UTF-8 survive the list merge untouched.
  const latin = Buffer.concat([Buffer.from("-- caf"), Buffer.from([0xe9]), Buffer.from("\n1\n")]);
  const out = mergeForPath("stubborn_prs.txt", latin, Buffer.concat([latin, Buffer.from("2\n")]), Buffer.concat([latin, Buffer.from("3\n")]));
  t.deepEqual(out, { ok: true, content: Buffer.concat([latin, Buffer.from("2\n3\n")]) });

  const ts = "data/19055/timestamp.txt";
  t.deepEqual(mergeForPath(ts, list("2024-11-14T22:51:00Z\n"), list("2024-11-14T23:30:00Z\n"), list("2024-11-14T23:00:00Z\n")), { ok: true, content: list("2024-11-14T23:30:00Z\n") });
  t.deepEqual(mergeForPath(ts, list("x"), null, list("2024-11-14T23:00:00Z\n")), { ok: true, content: list("2024-11-14T23:00:00Z\n") });

  const other = "README.md";
  t.deepEqual(mergeForPath(other, list("a"), list("a"), list("b")), { ok: true, content: list("b") });
  t.deepEqual(mergeForPath(other, list("a"), list("b"), list("b")), { ok: true, content: list("b") });
  const conflict = mergeForPath(other, list("a"), list("b"), list("c"));
  t.false(conflict.ok);
  t.false(mergeForPath("state/attempts/5/x.json", null, list("{}"), list("[]")).ok);
});

test("DRIVER_STRATEGIES agrees with the path classification", (t) => {
  for (const row of DRIVER_STRATEGIES) t.is(strategyForPath(row.sample), row.strategy, row.pattern);
  for (const file of Object.values(LIST_FILES)) t.is(strategyForPath(file), "list", file);
  t.is(strategyForPath("sub/missing_prs.txt"), null);
  t.is(strategyForPath("state/queue/5/abc.json"), null);
});
