// Integrity and paranoid checks (DESIGN 8) and the fixes they plan: every finding kind, on
// hand-built facts and on facts parsed from the real fixture records.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { DEFAULT_CONFIG, type Config } from "../src/config/config.js";
import type { PullSummary } from "../src/github/github.js";
import type { ListName } from "../src/layout.js";
import { dedupeList, parseList, serializeList } from "../src/lists/list-file.js";
import { paranoidFindings, runChecks, type CheckInput, type Finding, type FindingKind } from "../src/integrity/checks.js";
import { planFixes } from "../src/integrity/fix-plan.js";
import { parseRecord } from "../src/store/record-facts.js";
import { applyChanges } from "../src/state/pr-changes.js";
import type { AttemptFacts, PrFacts, RecordFacts } from "../src/state/pr-facts.js";
import { derivePrState, stateLabel } from "../src/state/pr-state.js";

const cfg: Config = DEFAULT_CONFIG; // allowed delay 30 min, CI stale after 240 min
const FIXTURES = join(process.cwd(), "fixtures");
const ctx = (now: Date) => ({ cfg, now, writer: "check-1" });

/** Facts of a real fixture record folder, parsed the way the store's scan parses them. */
function fixtureRecord(folder: string, pr: number, basic = false): RecordFacts {
  const dir = join(FIXTURES, "data", folder);
  const names = readdirSync(dir);
  const texts = new Map(names.map((n) => [n, readFileSync(join(dir, n), "utf8")]));
  return parseRecord(pr, basic, { entries: names.map((name) => ({ name, isFile: true })), texts }, { keepDocs: false }).facts;
}

function pullOf(path: string): Record<string, unknown> {
  return (JSON.parse(readFileSync(join(FIXTURES, path), "utf8")) as { data: { repository: { pullRequest: Record<string, unknown> } } }).data.repository.pullRequest;
}

const record = (over: Partial<RecordFacts> = {}): RecordFacts => ({
  basic: false,
  valid: true,
  problems: [],
  state: "OPEN",
  updatedAt: "2025-03-01T10:00:00Z",
  fetchedAt: "2025-03-01T10:01:00Z",
  headRefOid: "a".repeat(40),
  ci: "SUCCESS",
  title: "feat: a thing",
  isDraft: false,
  labels: ["t-algebra"],
  baseRefName: "master",
  reviewDecision: null,
  ...over,
});

function summary(n: number, over: Partial<PullSummary> = {}): PullSummary {
  return { number: n, state: "open", updatedAt: "2025-03-01T10:00:00Z", headSha: "a".repeat(40), draft: false, title: "feat: a thing", labels: ["t-algebra"], baseRef: "master", ...over };
}

function pr(n: number, o: { full?: RecordFacts; basic?: RecordFacts; lists?: ListName[]; attempts?: number; queued?: boolean; temp?: boolean } = {}): PrFacts {
  const attempts: AttemptFacts[] = Array.from({ length: o.attempts ?? 0 }, (_, i) => ({ at: `2025-03-01T0${i}:00:00.000Z`, writer: "w", errorClass: "TimeoutError", query: "full", path: `state/attempts/${n}/${i}.json` }));
  const f: PrFacts = { pr: n, temp: o.temp ?? false, lists: new Set(o.lists ?? []), attempts, queued: [] };
  if (o.queued) f.queued.push({ deliveryId: "d", event: "pull_request", receivedAt: "2025-03-01T10:00:00Z", path: `state/queue/${n}/d.json` });
  if (o.full) f.full = o.full;
  if (o.basic) f.basic = o.basic;
  return f;
}

const repo = (...fs: PrFacts[]) => new Map(fs.map((f) => [f.pr, f]));

function check(facts: Map<number, PrFacts>, over: Partial<CheckInput> = {}): Finding[] {
  return runChecks({ facts, unexpected: [], now: new Date("2025-03-01T10:10:00Z"), cfg, scope: "cycle", ...over });
}

const kinds = (fs: Finding[]) => fs.map((f) => `${f.pr ?? "-"}:${f.kind}`);

test("a healthy repo checks clean", (t) => {
  const facts = repo(pr(1, { full: record() }), pr(2, { full: record({ state: "CLOSED" }) }), pr(3, { basic: record({ basic: true }), lists: ["stubborn"] }));
  t.deepEqual(check(facts, { open: [summary(1), summary(3)] }), []);
});

test("broken-record: unparseable JSON removes the record, counts an attempt and lists the PR", (t) => {
  const now = new Date("2025-03-01T10:10:00Z");
  const broken = record({ valid: false, problems: ["pr_info.json does not parse"] });
  const facts = repo(pr(10, { full: broken }), pr(11, { full: { ...broken } }));
  const findings = check(facts, { open: [summary(10)] });
  t.deepEqual(kinds(findings), ["10:broken-record", "11:broken-record"]);
  t.deepEqual(findings[0]!.paths, ["data/10"]);
  t.is(findings[0]!.list, "missing", "open on GitHub");
  t.is(findings[1]!.list, "backfill", "not open on GitHub");

  const plan = planFixes(findings, facts, ctx(now));
  const [open, closed] = plan.prs;
  t.deepEqual(open!.removePaths, ["data/10"]);
  t.deepEqual(open!.addToLists, ["missing"]);
  t.is(open!.recordAttempt?.errorClass, "BrokenRecord");
  t.is(`${open!.transition.from} -> ${open!.transition.to}`, "missing -> failing(1)");
  t.deepEqual(closed!.addToLists, ["backfill"]);
});

test("broken-record: at the threshold the broken PR becomes stubborn", (t) => {
  const facts = repo(pr(12, { full: record({ valid: false, problems: ["pr_info.json does not parse"] }), attempts: 2, lists: ["missing"] }));
  const plan = planFixes(check(facts), facts, ctx(new Date()));
  t.deepEqual(plan.prs[0]!.addToLists, ["stubborn"]);
  t.is(plan.prs[0]!.transition.to, "stubborn");
});

test("broken-record: stray files alone are removed alone and count nothing (format of the store's parser)", (t) => {
  const dir = join(FIXTURES, "data", "20000");
  const names = [...readdirSync(dir), "notes.txt"];
  const texts = new Map(readdirSync(dir).map((n) => [n, readFileSync(join(dir, n), "utf8")]));
  const parsed = parseRecord(20000, false, { entries: names.map((name) => ({ name, isFile: true })), texts }, { keepDocs: false }).facts;
  t.false(parsed.valid);
  const facts = repo(pr(20000, { full: parsed }));
  const findings = check(facts);
  t.deepEqual(findings.map((f) => f.paths), [["data/20000/notes.txt"]]);
  const plan = planFixes(findings, facts, ctx(new Date()));
  t.deepEqual(plan.prs[0]!.removePaths, ["data/20000/notes.txt"]);
  t.is(plan.prs[0]!.recordAttempt, undefined);
  t.deepEqual(plan.prs[0]!.addToLists, []);
  t.is(plan.prs[0]!.transition.to, "fresh");
});

test("broken basic record next to a valid full one: the full one is re-downloaded", (t) => {
  const facts = repo(pr(13, { full: record(), basic: record({ basic: true, valid: false, problems: ["basic_pr_info.json does not parse"] }) }));
  const plan = planFixes(check(facts, { open: [summary(13)] }), facts, ctx(new Date()));
  t.deepEqual(plan.prs[0]!.removePaths, ["data/13-basic"]);
  t.deepEqual(plan.prs[0]!.addToLists, ["redownload"]);
  t.is(plan.prs[0]!.recordAttempt?.query, "basic");
});

test("temp-leftover: removed, one attempt, listed", (t) => {
  const facts = repo(pr(14, { temp: true }));
  const findings = check(facts, { open: [summary(14)] });
  t.deepEqual(kinds(findings), ["14:temp-leftover"], "not also reported as open-without-record");
  const plan = planFixes(findings, facts, ctx(new Date()));
  t.deepEqual(plan.prs[0]!.removePaths, ["data/14-temp", "data/14-basic-temp"]);
  t.is(plan.prs[0]!.recordAttempt?.errorClass, "InterruptedDownload");
  t.deepEqual(plan.prs[0]!.addToLists, ["missing"]);
});

test("both-full-and-basic: the older record goes, nothing counted", (t) => {
  const facts = repo(pr(15, { full: record({ updatedAt: "2025-01-01T00:00:00Z" }), basic: record({ basic: true, updatedAt: "2025-02-01T00:00:00Z" }), lists: ["stubborn"] }));
  const findings = check(facts);
  t.deepEqual(kinds(findings), ["15:both-full-and-basic"]);
  t.deepEqual(findings[0]!.paths, ["data/15"]);
  const plan = planFixes(findings, facts, ctx(new Date()));
  t.is(plan.prs[0]!.recordAttempt, undefined);
  t.is(plan.prs[0]!.transition.to, "fresh (basic)");
});

test("unexpected-entry: prstate's own leftovers are removed, a person's files are left", (t) => {
  const findings = check(new Map(), { unexpected: ["data/123-old", "data/README.md", "state/attempts/abc"] });
  t.deepEqual(kinds(findings), ["123:unexpected-entry", "-:unexpected-entry", "-:unexpected-entry"]);
  const plan = planFixes(findings, new Map(), ctx(new Date()));
  t.deepEqual(plan.prs[0]!.removePaths, ["data/123-old"]);
  t.deepEqual(plan.removePaths, ["state/attempts/abc"]);
  t.deepEqual(plan.unfixed.map((f) => f.detail), ["unexpected data/README.md"]);
});

test("open-without-record -> missing; open PRs already listed or queued are not reported", (t) => {
  const facts = repo(pr(21, { lists: ["backfill"] }), pr(22, { lists: ["missing"] }), pr(23, { queued: true }), pr(24, { lists: ["stubborn"] }));
  const open = [20, 21, 22, 23, 24].map((n) => summary(n));
  const findings = check(facts, { open });
  t.deepEqual(kinds(findings), ["20:open-without-record", "21:open-without-record"]);
  const plan = planFixes(findings, facts, ctx(new Date()));
  t.deepEqual(plan.prs.map((p) => [p.pr, p.addToLists, `${p.transition.from} -> ${p.transition.to}`]), [
    [20, ["missing"], "absent -> missing"],
    [21, ["missing"], "missing -> missing"],
  ]);
});

test("closed-but-open-in-record: closed upstream, open in the record -> outdated", (t) => {
  const facts = repo(pr(23000, { full: record({ state: "OPEN" }) }), pr(31, { full: record() }));
  // 23000 is not in GitHub's open listing; 31 is, but the summary says closed.
  const findings = check(facts, { open: [summary(31, { state: "closed", merged: true })] });
  t.deepEqual(kinds(findings), ["31:closed-but-open-in-record", "23000:closed-but-open-in-record"]);
  t.regex(findings[0]!.detail, /merged/);
  const plan = planFixes(findings, facts, ctx(new Date()));
  t.true(plan.prs.every((p) => p.addToLists.includes("redownload") && p.transition.to === "outdated"));
  // Without the listing nothing can be said.
  t.deepEqual(check(facts), []);
});

test("older-than-github: reported once GitHub's update is older than the allowed delay", (t) => {
  const facts = repo(pr(40, { full: record({ updatedAt: "2025-03-01T10:00:00Z" }) }));
  const open = [summary(40, { updatedAt: "2025-03-01T10:05:00Z" })];
  t.deepEqual(check(facts, { open, now: new Date("2025-03-01T10:20:00Z") }), [], "within the delay: an event is probably on its way");
  t.deepEqual(kinds(check(facts, { open, now: new Date("2025-03-01T10:40:00Z") })), ["40:older-than-github"]);
  // Already listed for re-download: nothing to add.
  const listed = repo(pr(40, { full: record(), lists: ["redownload"] }));
  t.deepEqual(check(listed, { open, now: new Date("2025-03-01T10:40:00Z") }), []);
});

test("force-pushed: GitHub's head differs with updatedAt unchanged (real 19055 record)", (t) => {
  const rec = fixtureRecord("19055", 19055);
  const later = pullOf("versions/19055/pr_info.4d3543b9.json");
  t.is(rec.headRefOid, pullOf("data/19055/pr_info.json").headRefOid as string);
  const open = [summary(19055, { updatedAt: rec.updatedAt!, headSha: later.headRefOid as string, draft: true, title: rec.title!, labels: [] })];
  const facts = repo(pr(19055, { full: rec }));
  const findings = check(facts, { open, now: new Date("2024-11-14T23:00:00Z") });
  t.deepEqual(kinds(findings), ["19055:force-pushed"]);
  t.regex(findings[0]!.detail, /bfffdcaed734.*2e8371e5b27b/);
  // A listing older than the record gives no verdict (the record may already be the newer one).
  const stale = [{ ...open[0]!, updatedAt: "2024-11-14T20:00:00Z" }];
  t.deepEqual(check(facts, { open: stale, now: new Date("2024-11-14T23:00:00Z") }), []);
});

test("ci-stale is measured per PR from its own record's fetch time (real 19055 record, CI running)", (t) => {
  const rec = fixtureRecord("19055", 19055);
  t.is(rec.ci, "PENDING");
  t.is(rec.fetchedAt, "2024-11-14T22:51:00Z");
  const recent = { ...rec, fetchedAt: "2024-11-15T01:30:00Z" };
  const facts = repo(pr(19055, { full: rec }), pr(19056, { full: recent }));
  const now = new Date("2024-11-15T03:00:00Z"); // 19055 fetched 4h09 ago, 19056 1h30 ago
  t.deepEqual(kinds(check(facts, { now })), ["19055:ci-stale"]);
  // A closed PR's CI that never finished is not chased.
  t.deepEqual(check(repo(pr(1, { full: { ...rec, state: "CLOSED" } })), { now }), []);
});

test("ci-missing: only for a record fetched right after an update, and only after the delay", (t) => {
  const base = { ci: "NONE" as const, updatedAt: "2025-03-01T10:00:00Z" };
  const soon = repo(pr(50, { full: record({ ...base, fetchedAt: "2025-03-01T10:02:00Z" }) }));
  t.deepEqual(check(soon, { now: new Date("2025-03-01T10:20:00Z") }), [], "too early to tell");
  t.deepEqual(kinds(check(soon, { now: new Date("2025-03-01T10:40:00Z") })), ["50:ci-missing"]);
  // Fetched long after the update and still no CI: believed, never re-queued forever.
  const settled = repo(pr(50, { full: record({ ...base, fetchedAt: "2025-03-01T12:00:00Z" }) }));
  t.deepEqual(check(settled, { now: new Date("2025-03-02T10:00:00Z") }), []);
});

test("satisfied-list-entry: a missing PR whose data arrived leaves missing_prs.txt", (t) => {
  const facts = repo(pr(60, { full: record(), lists: ["missing"] }), pr(61, { full: record({ state: "CLOSED" }), lists: ["backfill"] }));
  const findings = check(facts);
  t.deepEqual(findings.map((f) => [f.pr, f.kind, f.list]), [
    [60, "satisfied-list-entry", "missing"],
    [61, "satisfied-list-entry", "backfill"],
  ]);
  const plan = planFixes(findings, facts, ctx(new Date()));
  t.deepEqual(plan.prs.map((p) => p.removeFromLists), [["missing"], ["backfill"]]);
  t.deepEqual(plan.prs.map((p) => p.addToLists), [[], []]);
});

test("satisfied-list-entry: a redownload entry whose record is newer than GitHub's updatedAt", (t) => {
  const facts = repo(pr(62, { full: record({ updatedAt: "2025-03-01T10:05:00Z" }), lists: ["redownload"] }), pr(63, { full: record(), lists: ["redownload"] }));
  const open = [summary(62), summary(63)];
  // 63's record has GitHub's updatedAt: the entry may stand for a CI change or a force-push, it stays.
  t.deepEqual(check(facts, { open }).map((f) => [f.pr, f.kind, f.list]), [[62, "satisfied-list-entry", "redownload"]]);
});

test("stale-stubborn: attempts reached the threshold but the list did not", (t) => {
  const facts = repo(pr(70, { attempts: 3, lists: ["missing"] }), pr(71, { attempts: 2, lists: ["missing"] }));
  const findings = check(facts);
  t.deepEqual(kinds(findings), ["70:stale-stubborn"]);
  const plan = planFixes(findings, facts, ctx(new Date()));
  t.deepEqual(plan.prs[0]!.addToLists, ["stubborn"]);
  t.is(plan.prs[0]!.removeAttempts.length, 3);
  t.deepEqual(derivePrState(applyChanges(facts.get(70)!, plan.prs[0]!), cfg), { name: "stubborn" });
});

test("duplicate-list-entries: the real stubborn list (16023 x83, blank runs) is cleaned without losing comments", (t) => {
  const text = readFileSync(join(FIXTURES, "lists", "stubborn_prs.02a49d79.txt"), "utf8");
  const list = parseList(text);
  const findings = check(new Map(), { lists: { stubborn: list } });
  // 83 blank lines, 2 of them separating sections (one before the first 16023, one after the last).
  t.deepEqual(findings.map((f) => f.detail), ["16023 appears 83 times in stubborn_prs.txt", "81 redundant blank lines in stubborn_prs.txt"]);
  const plan = planFixes(findings, new Map(), ctx(new Date()));
  t.deepEqual(plan.dedupe, ["stubborn"]);
  t.is(plan.prs[0]!.transition.reason, "duplicate-list-entries: 16023 appears 83 times in stubborn_prs.txt");
  const cleaned = dedupeList(list);
  const comments = (l: typeof list) => l.lines.filter((x) => x.type === "comment").map((x) => x.raw);
  t.deepEqual(comments(cleaned), comments(list));
  t.deepEqual(check(new Map(), { lists: { stubborn: cleaned } }), []);
});

test("duplicate-list-entries: 90 duplicates of one number and blank runs", (t) => {
  const text = `-- hand-kept list\n${Array.from({ length: 90 }, () => "4197\n\n\n").join("")}-- end\n12\r\n`;
  const list = parseList(text);
  const findings = check(new Map(), { lists: { missing: list } });
  t.deepEqual(findings.map((f) => [f.pr, f.kind]), [
    [4197, "duplicate-list-entries"],
    [undefined, "duplicate-list-entries"],
  ]);
  t.regex(findings[0]!.detail, /appears 90 times/);
  t.is(serializeList(dedupeList(list)), "-- hand-kept list\n4197\n\n-- end\n12\r\n");
});

test("paranoid: key fields of every open PR against its record", (t) => {
  const rec = record({ reviewDecision: "APPROVED", ci: "SUCCESS" });
  const facts = repo(pr(80, { full: rec }), pr(81, { full: rec }), pr(82, { full: rec, lists: ["redownload"] }), pr(83, { full: rec }), pr(84, {}));
  const open = [
    summary(80),
    { ...summary(81, { title: "feat: renamed", labels: ["t-algebra", "awaiting-author"], draft: true, baseRef: "stable", headSha: "b".repeat(40) }), reviewDecision: "CHANGES_REQUESTED", ci: "FAILURE" as const },
    summary(82, { title: "other" }),
    summary(83, { title: "older listing", updatedAt: "2025-03-01T09:00:00Z" }),
    summary(84),
  ];
  const findings = paranoidFindings(facts, open);
  t.deepEqual(findings.map((f) => [f.pr, f.kind, f.fields]), [[81, "paranoid-mismatch", ["title", "draft", "labels", "headSha", "baseRef", "reviewDecision", "ci"]]]);
  const plan = planFixes(findings, facts, ctx(new Date()));
  t.deepEqual(plan.prs[0]!.addToLists, ["redownload"]);
  t.is(stateLabel(derivePrState(applyChanges(facts.get(81)!, plan.prs[0]!), cfg)), "outdated");
  // Label order does not matter; a closed summary vs an OPEN record is a state mismatch.
  t.deepEqual(paranoidFindings(repo(pr(85, { full: record({ labels: ["b", "a"] }) })), [summary(85, { labels: ["a", "b"] })]), []);
  t.deepEqual(paranoidFindings(repo(pr(86, { full: record() })), [summary(86, { state: "closed" })])[0]!.fields, ["state"]);
});

test("one fix per PR combining its findings, in PR order", (t) => {
  const facts = repo(pr(90, { full: record(), lists: ["missing"] }));
  const open = [summary(90, { updatedAt: "2025-03-01T11:00:00Z", headSha: "c".repeat(40) })];
  const findings = check(facts, { open, now: new Date("2025-03-01T12:00:00Z") });
  t.deepEqual(findings.map((f) => f.kind).sort(), ["force-pushed", "older-than-github", "satisfied-list-entry"] satisfies FindingKind[]);
  const plan = planFixes(findings, facts, ctx(new Date()));
  t.is(plan.prs.length, 1);
  t.deepEqual(plan.prs[0]!.addToLists, ["redownload"]);
  t.deepEqual(plan.prs[0]!.removeFromLists, ["missing"]);
  t.is(`${plan.prs[0]!.transition.from} -> ${plan.prs[0]!.transition.to}`, "fresh -> outdated");
  t.is(plan.prs[0]!.transition.writer, "check-1");
});
