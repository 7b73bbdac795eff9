// The store against real files: fixture records and lists from the queueboard data repo,
// real crashes (a writer process killed with SIGKILL mid-write), real git status.
import test from "ava";
import { spawn } from "node:child_process";
import { cp, mkdir, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { DataError, InputError, registerSecret } from "../src/errors.js";
import { LIST_FILES, type ListName } from "../src/layout.js";
import { addEntries } from "../src/lists/list-file.js";
import { clearAttempts, listAttempts, readAttemptFiles, recordAttempt } from "../src/store/attempts-store.js";
import { readChecks, recordCheckRun } from "../src/store/checks-file.js";
import { parseLegacyAttempt } from "../src/store/legacy-attempts.js";
import { readList, writeList } from "../src/store/list-store.js";
import { ciSummary } from "../src/store/record-facts.js";
import { cleanupRecordTemp, readRecord, readRecordFacts, removeRecord, writeRecord } from "../src/store/record-store.js";
import { headShaIndex, scanRepo } from "../src/store/repo-scan.js";
import { formatTimestamp, isoSeconds, parseTimestamp } from "../src/store/timestamp-file.js";
import { readWatermark, writeWatermark } from "../src/store/watermark-file.js";
import { cleanupTempDirs, commitAll, git, initRepo, tempDir } from "./helpers/git-repo.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const FIXTURES = join(ROOT, "fixtures");
const FIXTURE_RECORDS = ["10014", "10024", "11976-basic", "12234-basic", "1388", "15000", "19055", "20000", "23000", "23100", "4197-basic"];

test.after.always(cleanupTempDirs);

async function fixtureRepo(records: string[] = FIXTURE_RECORDS): Promise<string> {
  const repo = await tempDir("prstate-store-");
  for (const r of records) await cp(join(FIXTURES, "data", r), join(repo, "data", r), { recursive: true });
  return repo;
}

const fixtureText = (path: string) => readFile(join(FIXTURES, path), "utf8");
const fixtureJson = async (path: string) => JSON.parse(await fixtureText(path)) as Record<string, unknown>;

/** The fixture bytes with prstate's stamp added as the last top-level key (jq layout). */
function withStamp(original: string, fetchedAt: string): string {
  if (!original.endsWith("\n}\n")) throw new Error("fixture not in jq layout");
  return `${original.slice(0, -3)},\n  "prstate": {\n    "fetchedAt": "${fetchedAt}"\n  }\n}\n`;
}

async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, prefix: string) => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      out.push(prefix + e.name + (e.isDirectory() ? "/" : ""));
      if (e.isDirectory()) await walk(join(d, e.name), `${prefix}${e.name}/`);
    }
  };
  await walk(dir, "");
  return out.sort();
}

// ---------------------------------------------------------------- records

test("every fixture record round-trips byte for byte, plus the stamp", async (t) => {
  const source = await fixtureRepo();
  const target = await tempDir("prstate-store-");
  for (const name of FIXTURE_RECORDS) {
    const basic = name.endsWith("-basic");
    const pr = Number.parseInt(name, 10);
    const record = await readRecord(source, pr, { basic });
    t.truthy(record, name);
    t.true(record!.facts.valid, `${name}: ${record!.facts.problems.join("; ")}`);
    const fetchedAt = record!.timestamp ?? "2025-01-02T03:04:05Z";
    const result = await writeRecord(target, pr, { basic, files: record!.docs, fetchedAt });
    t.deepEqual(result, { written: true, dir: `data/${name}`, removed: [] });
    for (const file of Object.keys(record!.docs)) {
      const written = await readFile(join(target, "data", name, file), "utf8");
      t.is(written, withStamp(await fixtureText(`data/${name}/${file}`), fetchedAt), `${name}/${file}`);
    }
    const stamp = await readFile(join(target, "data", name, "timestamp.txt"), "utf8");
    if (record!.timestamp) t.is(stamp, await fixtureText(`data/${name}/timestamp.txt`));
    t.is(stamp, `${fetchedAt}\n`);
    // Reading the written record gives the same facts, now with the stamp as fetch time.
    const again = await readRecordFacts(target, pr, { basic });
    t.deepEqual(again, { ...record!.facts, fetchedAt });
  }
  // The written tree holds exactly the records: no temp folder, no temp file.
  const tree = await listTree(join(target, "data"));
  t.false(tree.some((p) => p.includes("temp")), tree.join(" "));
});

test("record facts follow old and new query shapes", async (t) => {
  const repo = await fixtureRepo();
  const facts = async (name: string) => (await readRecordFacts(repo, Number.parseInt(name, 10), { basic: name.endsWith("-basic") }))!;

  const f20000 = await facts("20000");
  t.like(f20000, { valid: true, state: "OPEN", isDraft: false, ci: "SUCCESS", labels: ["t-combinatorics"], baseRefName: "master", reviewDecision: null });
  t.is(f20000.updatedAt, "2024-12-16T11:03:37Z");
  t.is(f20000.fetchedAt, "2024-12-16T11:21:15Z");
  t.is(f20000.headRefOid, "de049412d444f46fb90ee19ff1a430a6fefaae4e");

  t.like(await facts("19055"), { isDraft: true, ci: "PENDING", labels: [] });
  // Older shape: labels without color; last commit FAILURE; no pr_reactions.json is still valid.
  t.like(await facts("10024"), { valid: true, ci: "FAILURE", labels: ["merge-conflict", "awaiting-CI", "t-topology"] });
  // A commit with "statusCheckRollup": null among the commits; bors StatusContext.
  t.like(await facts("15000"), { valid: true, state: "CLOSED", reviewDecision: "APPROVED" });
  // No timestamp.txt and no stamp: fetch time unknown, record still valid.
  const f1388 = await facts("1388");
  t.true(f1388.valid);
  t.is(f1388.fetchedAt, undefined);
  // Basic records: old shape without comments/headRefName, no headRefOid, CI from the PR's rollup.
  const f4197 = await facts("4197-basic");
  t.like(f4197, { basic: true, valid: true, state: "OPEN", ci: "FAILURE" });
  t.is(f4197.headRefOid, undefined);
  t.is(f4197.reviewDecision, undefined);
  t.like(await facts("12234-basic"), { basic: true, valid: true, state: "CLOSED" });
});

test("CI summary: failure beats running beats success; none is NONE", (t) => {
  const run = (conclusion: string | null, status = conclusion === null ? "IN_PROGRESS" : "COMPLETED") => ({ __typename: "CheckRun", name: "x", conclusion, status });
  const ctx = (state: string) => ({ __typename: "StatusContext", context: "bors", state });
  const pull = (nodes: unknown[] | null, top?: unknown[]) => ({
    headRefOid: "a",
    commits: { nodes: [{ commit: { oid: "b", statusCheckRollup: { contexts: { nodes: [run("FAILURE")] } } } }, { commit: { oid: "a", statusCheckRollup: nodes && { contexts: { nodes } } } }] },
    statusCheckRollup: top && { contexts: { nodes: top } },
  });
  t.is(ciSummary(pull([run("SUCCESS"), run("SKIPPED"), run("NEUTRAL"), ctx("SUCCESS")])), "SUCCESS");
  t.is(ciSummary(pull([run("SUCCESS"), run(null)])), "PENDING");
  t.is(ciSummary(pull([run("SUCCESS"), ctx("PENDING")])), "PENDING");
  t.is(ciSummary(pull([run(null), run("TIMED_OUT")])), "FAILURE");
  t.is(ciSummary(pull([run("CANCELLED")])), "FAILURE");
  t.is(ciSummary(pull([ctx("ERROR"), run("SUCCESS")])), "FAILURE");
  t.is(ciSummary(pull([])), "NONE");
  // Head commit without a rollup: the PR's own rollup (that of its head) answers.
  t.is(ciSummary(pull(null, [run("QUEUED", "QUEUED")])), "PENDING");
  t.is(ciSummary(pull(null)), "NONE");
  // Old shape: commit nodes without `commit`.
  t.is(ciSummary({ commits: { nodes: [{ url: "x" }] }, statusCheckRollup: { contexts: { nodes: [run("SUCCESS")] } } }), "SUCCESS");
});

test("a newer stored record is never replaced; equal updatedAt falls back to fetch time", async (t) => {
  const repo = await tempDir("prstate-store-");
  const older = await fixtureJson("data/19055/pr_info.json"); // updatedAt 2024-11-14T22:50:xx
  const newer = await fixtureJson("versions/19055/pr_info.4d3543b9.json"); // 23:29:51
  t.like(await writeRecord(repo, 19055, { basic: false, files: { "pr_info.json": newer }, fetchedAt: "2024-11-14T23:30:00Z" }), { written: true });
  const before = await listTreeWithBytes(repo);

  // A slow download that started earlier and carries the older state.
  const slow = await writeRecord(repo, 19055, { basic: false, files: { "pr_info.json": older }, fetchedAt: "2024-11-15T00:00:00Z" });
  t.deepEqual(slow, { written: false, reason: "stale", newer: "data/19055" });
  // Same updatedAt, earlier fetch: stale too. Later fetch (CI changed): written.
  t.like(await writeRecord(repo, 19055, { basic: false, files: { "pr_info.json": newer }, fetchedAt: "2024-11-14T23:29:59Z" }), { written: false, reason: "stale" });
  t.deepEqual(await listTreeWithBytes(repo), before);
  t.like(await writeRecord(repo, 19055, { basic: false, files: { "pr_info.json": newer }, fetchedAt: "2024-11-14T23:31:00Z" }), { written: true });
  t.is((await readRecordFacts(repo, 19055, { basic: false }))!.fetchedAt, "2024-11-14T23:31:00Z");

  // A broken stored record never blocks a write.
  await writeFile(join(repo, "data/19055/pr_info.json"), "{ truncated");
  t.like(await writeRecord(repo, 19055, { basic: false, files: { "pr_info.json": older }, fetchedAt: "2024-11-14T22:51:00Z" }), { written: true });
  t.true((await readRecordFacts(repo, 19055, { basic: false }))!.valid);
});

async function listTreeWithBytes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const p of await listTree(dir)) if (!p.endsWith("/")) out[p] = await readFile(join(dir, p), "utf8");
  return out;
}

test("full and basic records: removeOther swaps kinds, never for a newer record", async (t) => {
  const repo = await fixtureRepo(["4197-basic"]);
  const basicDoc = await fixtureJson("data/4197-basic/basic_pr_info.json"); // updatedAt 2024-08-15T11:34:25Z
  const asFull = structuredClone(basicDoc);
  const fullPull = (asFull.data as { repository: { pullRequest: Record<string, unknown> } }).repository.pullRequest;

  // Without the option both stay (the integrity check reports it).
  t.like(await writeRecord(repo, 4197, { basic: false, files: { "pr_info.json": asFull }, fetchedAt: "2024-12-07T00:00:00Z" }), { written: true, removed: [] });
  t.truthy(await readRecordFacts(repo, 4197, { basic: true }));

  // A full record older than the basic one does not remove it.
  await removeRecord(repo, 4197, { basic: false });
  fullPull.updatedAt = "2024-08-01T00:00:00Z";
  t.deepEqual(await writeRecord(repo, 4197, { basic: false, files: { "pr_info.json": asFull }, fetchedAt: "2024-12-07T00:00:00Z", removeOther: true }), {
    written: false,
    reason: "stale",
    newer: "data/4197-basic",
  });
  t.is(await readRecordFacts(repo, 4197, { basic: false }), undefined);

  // The stubborn retry's full download: the basic record goes after the full one is in place.
  fullPull.updatedAt = "2024-12-07T10:00:00Z";
  t.deepEqual(await writeRecord(repo, 4197, { basic: false, files: { "pr_info.json": asFull }, fetchedAt: "2024-12-07T10:00:00Z", removeOther: true }), {
    written: true,
    dir: "data/4197",
    removed: ["data/4197-basic"],
  });
  t.deepEqual(await listTree(join(repo, "data")), ["4197/", "4197/pr_info.json", "4197/timestamp.txt"]);
});

test("bad record writes are refused with one clear error and write nothing", async (t) => {
  const repo = await tempDir("prstate-store-");
  const doc = await fixtureJson("data/20000/pr_info.json");
  const attempt = (pr: number, files: Record<string, unknown>, basic = false) => writeRecord(repo, pr, { basic, files, fetchedAt: "2025-01-01T00:00:00Z" });
  await t.throwsAsync(attempt(20000, { "pr_reactions.json": doc }), { instanceOf: InputError, message: /pr_info\.json is required/ });
  await t.throwsAsync(attempt(20000, { "pr_info.json": doc, "../../evil.json": doc }), { instanceOf: InputError });
  await t.throwsAsync(attempt(20000, { "pr_info.json": { errors: [{ message: "timeout" }] } }), { instanceOf: DataError });
  await t.throwsAsync(attempt(20001, { "pr_info.json": doc }), { instanceOf: DataError, message: /PR 20000/ });
  await t.throwsAsync(attempt(20000, { "pr_info.json": doc }, true), { instanceOf: InputError, message: /basic_pr_info\.json is required/ });
  await t.throwsAsync(writeRecord(repo, 20000, { basic: false, files: { "pr_info.json": doc }, fetchedAt: "yesterday" }), { instanceOf: InputError });
  t.deepEqual(await listTree(repo), []);
});

test("PR numbers that are not positive integers are rejected everywhere, nothing written", async (t) => {
  const repo = await tempDir("prstate-store-");
  const doc = await fixtureJson("data/20000/pr_info.json");
  for (const bad of ["../x", "12a", "-3", "1e3", "0", "007", "", "12/../13"]) {
    const pr = bad as unknown as number;
    const calls: [string, () => Promise<unknown>][] = [
      ["writeRecord", () => writeRecord(repo, pr, { basic: false, files: { "pr_info.json": doc }, fetchedAt: "2025-01-01T00:00:00Z" })],
      ["readRecord", () => readRecord(repo, pr, { basic: false })],
      ["removeRecord", () => removeRecord(repo, pr, { basic: true })],
      ["cleanupRecordTemp", () => cleanupRecordTemp(repo, pr)],
      ["recordAttempt", () => recordAttempt(repo, pr, { at: "2025-01-01T00:00:00Z", writer: "w", errorClass: "TimeoutError", query: "full" })],
      ["listAttempts", () => listAttempts(repo, pr)],
      ["clearAttempts", () => clearAttempts(repo, pr)],
      ["scanRepo", () => scanRepo(repo, { only: [pr] })],
    ];
    for (const [name, call] of calls) {
      const err = await t.throwsAsync(call(), { instanceOf: InputError }, `${name}(${JSON.stringify(bad)})`);
      t.regex(err!.message, /^not a PR number: /);
      t.false(err!.message.includes("\n"));
    }
  }
  t.deepEqual(await listTree(repo), []);
});

// ---------------------------------------------------------------- crash safety

// A writer process that rewrites data/19055 forever, alternating between a record with and
// without pr_reactions.json, every version with a later fetch time. Killed at a random moment.
const WRITER = `
import { writeRecord } from ${JSON.stringify(pathToFileURL(join(ROOT, "dist/src/store/record-store.js")).href)};
import { readFileSync } from "node:fs";
const [repo, fixtures, start] = process.argv.slice(1);
const info = JSON.parse(readFileSync(fixtures + "/data/19055/pr_info.json", "utf8"));
const reactions = JSON.parse(readFileSync(fixtures + "/data/19055/pr_reactions.json", "utf8"));
for (let i = 0; ; i++) {
  const files = i % 2 ? { "pr_info.json": info } : { "pr_info.json": info, "pr_reactions.json": reactions };
  await writeRecord(repo, 19055, { basic: false, files, fetchedAt: new Date(Date.UTC(2030, 0, 1) + (Number(start) + i) * 1000) });
  if (i === 0) process.stdout.write("ready\\n");
}
`;

async function runWriterAndKill(repo: string, start: number, killAfterMs: number): Promise<void> {
  const child = spawn(process.execPath, ["--input-type=module", "-e", WRITER, repo, FIXTURES, String(start)], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((ok, fail) => {
    child.stdout.once("data", () => ok());
    child.once("exit", (code) => fail(new Error(`writer exited early (${code})`)));
  });
  await new Promise((r) => setTimeout(r, killAfterMs));
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGKILL");
  await exited;
}

test("a writer killed at random points never leaves a mixed or partial record", async (t) => {
  const repo = await tempDir("prstate-store-");
  let sawTemp = 0;
  for (let round = 0; round < 12; round++) {
    await runWriterAndKill(repo, round * 1_000_000, Math.floor(Math.random() * 40));
    const scan = await scanRepo(repo);
    if (scan.prs.get(19055)!.temp) {
      sawTemp++;
      await cleanupRecordTemp(repo, 19055);
    }
    const record = await readRecord(repo, 19055, { basic: false });
    t.truthy(record, `round ${round}: record lost`);
    t.true(record!.facts.valid, record!.facts.problems.join("; "));
    // All files of the folder come from one write: one fetch time in every one of them.
    const stamps = new Set([record!.timestamp, ...Object.values(record!.docs).map((d) => (d as { prstate: { fetchedAt: string } }).prstate.fetchedAt)]);
    t.is(stamps.size, 1, `round ${round}: mixed record ${[...stamps].join(", ")}`);
    t.deepEqual((await scanRepo(repo)).prs.get(19055)!.temp, false);
  }
  t.log(`kills that left a -temp folder: ${sawTemp}/12`);
});

test("a leftover -temp folder: the old record stays readable, the next write cleans up", async (t) => {
  const repo = await fixtureRepo(["19055"]);
  const original = await readRecord(repo, 19055, { basic: false });
  // A crash while staging: partial new files in data/19055-temp/new.
  await mkdir(join(repo, "data/19055-temp/new"), { recursive: true });
  await writeFile(join(repo, "data/19055-temp/new/pr_info.json"), '{"data": {"reposit');
  const during = await readRecord(repo, 19055, { basic: false });
  t.deepEqual(during, original);
  t.true((await scanRepo(repo)).prs.get(19055)!.temp);
  t.like(await writeRecord(repo, 19055, { basic: false, files: original!.docs, fetchedAt: "2024-11-14T23:00:00Z" }), { written: true });
  t.deepEqual(await listTree(join(repo, "data")), ["19055/", "19055/pr_info.json", "19055/pr_reactions.json", "19055/timestamp.txt"]);

  // A crash between the two renames: the record is under -temp/old, the complete new one under -temp/new.
  await mkdir(join(repo, "data/19055-temp"), { recursive: true });
  await cp(join(repo, "data/19055"), join(repo, "data/19055-temp/new"), { recursive: true });
  await cp(join(FIXTURES, "data/19055"), join(repo, "data/19055-temp/old"), { recursive: true });
  await rm(join(repo, "data/19055"), { recursive: true });
  t.deepEqual(await cleanupRecordTemp(repo, 19055), { restored: ["data/19055"], removed: ["data/19055-temp"] });
  t.is((await readRecordFacts(repo, 19055, { basic: false }))!.fetchedAt, "2024-11-14T23:00:00Z");
  // Same crash, but the staged copy is damaged: the old record comes back.
  await cp(join(repo, "data/19055"), join(repo, "data/19055-temp/old"), { recursive: true });
  await mkdir(join(repo, "data/19055-temp/new"));
  await rm(join(repo, "data/19055"), { recursive: true });
  t.deepEqual(await cleanupRecordTemp(repo, 19055), { restored: ["data/19055"], removed: ["data/19055-temp"] });
  t.true((await readRecordFacts(repo, 19055, { basic: false }))!.valid);
});

test("in a git checkout a write shows up as a change of the record's own files only", async (t) => {
  const repo = await initRepo(await fixtureRepo(["19055", "20000"]));
  await commitAll(repo, "fixtures");
  const newer = await fixtureJson("versions/19055/pr_info.4d3543b9.json");
  const reactions = await fixtureJson("data/19055/pr_reactions.json");
  await writeRecord(repo, 19055, { basic: false, files: { "pr_info.json": newer, "pr_reactions.json": reactions }, fetchedAt: "2024-11-14T23:30:00Z" });
  const status = (await git(repo, ["status", "--porcelain", "--untracked-files=all"])).stdout.split("\n").filter((l) => l !== "").sort();
  t.deepEqual(status, [" M data/19055/pr_info.json", " M data/19055/pr_reactions.json", " M data/19055/timestamp.txt"]);
  // The reactions file differs from the committed one by the stamp alone: three added lines.
  const diff = (await git(repo, ["diff", "-U0", "data/19055/pr_reactions.json"])).stdout;
  const changed = diff.split("\n").filter((l) => /^[+-](?![+-])/.test(l));
  t.deepEqual(changed, ["+  },", '+  "prstate": {', '+    "fetchedAt": "2024-11-14T23:30:00Z"']);
});

// ---------------------------------------------------------------- lists

test("every fixture list round-trips byte for byte; unchanged writes touch nothing", async (t) => {
  const names = await readdir(join(FIXTURES, "lists"));
  t.true(names.length >= 9);
  for (const file of names) {
    const name = (Object.entries(LIST_FILES).find(([, f]) => file.startsWith(f.replace(/\.txt$/, ".")))![0]) as ListName;
    const repo = await tempDir("prstate-store-");
    const bytes = await readFile(join(FIXTURES, "lists", file));
    await writeFile(join(repo, LIST_FILES[name]), bytes);
    const before = await stat(join(repo, LIST_FILES[name]));
    const list = await readList(repo, name);
    await new Promise((r) => setTimeout(r, 5));
    t.false(await writeList(repo, name, list), file);
    t.deepEqual(await readFile(join(repo, LIST_FILES[name])), bytes, file);
    t.is((await stat(join(repo, LIST_FILES[name]))).mtimeMs, before.mtimeMs, file);
    // Written into an empty repo: the same bytes.
    const other = await tempDir("prstate-store-");
    t.true(await writeList(other, name, list));
    t.deepEqual(await readFile(join(other, LIST_FILES[name])), bytes, file);
  }
});

test("lists: a missing file is empty and is not created by writing it unchanged; edits are atomic", async (t) => {
  const repo = await tempDir("prstate-store-");
  const empty = await readList(repo, "missing");
  t.deepEqual(empty.lines, []);
  t.false(await writeList(repo, "missing", empty));
  t.deepEqual(await listTree(repo), []);
  t.true(await writeList(repo, "missing", addEntries(empty, [17469, 20000])));
  t.is(await readFile(join(repo, "missing_prs.txt"), "utf8"), "17469\n20000\n");
  // A CRLF list without final newline keeps its style when edited.
  await writeFile(join(repo, "redownload.txt"), "-- keep me\r\n123\r\n456");
  t.true(await writeList(repo, "redownload", addEntries(await readList(repo, "redownload"), [789])));
  t.is(await readFile(join(repo, "redownload.txt"), "utf8"), "-- keep me\r\n123\r\n456\r\n789");
  t.deepEqual(await listTree(repo), ["missing_prs.txt", "redownload.txt"]);
});

// ---------------------------------------------------------------- small state files

test("timestamps: ISO-8601 UTC seconds, older shapes accepted, free text refused", (t) => {
  t.is(isoSeconds(new Date(Date.UTC(2024, 11, 16, 11, 3, 37, 999))), "2024-12-16T11:03:37Z");
  t.is(formatTimestamp("2024-12-16T12:03:37+01:00"), "2024-12-16T11:03:37Z\n");
  t.is(parseTimestamp("2024-12-16T11:03:37Z\r\n"), "2024-12-16T11:03:37Z");
  t.is(parseTimestamp("2024-12-16T11:03:37.5Z\n"), "2024-12-16T11:03:37Z");
  t.is(parseTimestamp("Dec 16 2024"), undefined);
  t.is(parseTimestamp("2024-12-16"), undefined);
  t.throws(() => isoSeconds("soon"), { instanceOf: InputError });
});

test("watermark: round trip, never backwards unless forced, malformed is a DataError", async (t) => {
  const repo = await tempDir("prstate-store-");
  t.is(await readWatermark(repo), undefined);
  t.true(await writeWatermark(repo, { updatedAt: "2025-03-19T20:47:50Z", writer: "run-1" }));
  t.is(await readFile(join(repo, "state/watermark.json"), "utf8"), '{\n  "updatedAt": "2025-03-19T20:47:50Z",\n  "writer": "run-1"\n}\n');
  t.false(await writeWatermark(repo, { updatedAt: "2025-03-19T20:00:00Z", writer: "run-2" }));
  t.deepEqual(await readWatermark(repo), { updatedAt: "2025-03-19T20:47:50Z", writer: "run-1" });
  t.true(await writeWatermark(repo, { updatedAt: "2025-03-19T20:00:00Z", writer: "run-2" }, { force: true }));
  await writeFile(join(repo, "state/watermark.json"), "<<<<<<< HEAD\n");
  await t.throwsAsync(readWatermark(repo), { instanceOf: DataError, message: /state\/watermark\.json/ });
  t.true(await writeWatermark(repo, { updatedAt: "2025-03-20T00:00:00Z", writer: "run-3" }));
  t.is((await readWatermark(repo))!.writer, "run-3");
});

test("checks: last run per job, sorted keys, only forward", async (t) => {
  const repo = await tempDir("prstate-store-");
  t.deepEqual(await readChecks(repo), {});
  await recordCheckRun(repo, "stubborn-retry", "2025-03-19T10:00:00Z");
  await recordCheckRun(repo, "paranoid", new Date(Date.UTC(2025, 2, 19, 9, 0, 0, 123)));
  await recordCheckRun(repo, "stubborn-retry", "2025-03-18T10:00:00Z");
  t.is(await readFile(join(repo, "state/checks.json"), "utf8"), '{\n  "paranoid": "2025-03-19T09:00:00Z",\n  "stubborn-retry": "2025-03-19T10:00:00Z"\n}\n');
  await t.throwsAsync(recordCheckRun(repo, "../x", "2025-03-19T10:00:00Z"), { instanceOf: InputError });
  await writeFile(join(repo, "state/checks.json"), '{"paranoid": 3}');
  await t.throwsAsync(readChecks(repo), { instanceOf: DataError });
});

test("attempts: one file each, distinct names under concurrency, secrets never stored", async (t) => {
  const repo = await tempDir("prstate-store-");
  registerSecret("s3cr3t-token-value");
  const at = "2025-03-19T20:47:50.123Z";
  const paths = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      recordAttempt(repo, 23100, {
        at,
        writer: i % 2 ? "runner/42 (linux)" : "host-a",
        errorClass: "TimeoutError",
        query: "full",
        message: "GET https://x:s3cr3t-token-value@api.github.com failed with ghp_abcdefghijklmnopqrstuvwxyz\nstack line 1",
        run: "https://github.com/o/r/actions/runs/1",
      }),
    ),
  );
  t.is(new Set(paths).size, 20);
  t.true(paths.every((p) => /^state\/attempts\/23100\/2025-03-19T20-47-50\.123Z-(host-a|runner_42_linux_)(-\d+)?\.json$/.test(p)), paths.join(" "));
  const files = await readdir(join(repo, "state/attempts/23100"));
  t.is(files.length, 20);
  for (const f of files) {
    const text = await readFile(join(repo, "state/attempts/23100", f), "utf8");
    t.false(text.includes("s3cr3t"));
    t.false(text.includes("ghp_"));
    t.false(text.includes("stack line"));
  }
  const attempts = await listAttempts(repo, 23100);
  t.is(attempts.length, 20);
  t.like(attempts[0], { at, errorClass: "TimeoutError", query: "full" });

  // A damaged file still counts as an attempt; its time comes from its name.
  await writeFile(join(repo, "state/attempts/23100/2025-03-20T01-02-03.000Z-old-tool.json"), "{");
  const read = await readAttemptFiles(repo, 23100);
  t.is(read.attempts.length, 21);
  t.deepEqual(read.unreadable, ["state/attempts/23100/2025-03-20T01-02-03.000Z-old-tool.json"]);
  t.like(read.attempts[20], { at: "2025-03-20T01:02:03.000Z", writer: "old-tool", errorClass: "unreadable" });

  await clearAttempts(repo, 23100);
  t.deepEqual(await listAttempts(repo, 23100), []);
  t.deepEqual(await listTree(join(repo, "state/attempts")), []);
});

test("legacy attempt comments: 'second attempt' is one failed attempt", (t) => {
  t.deepEqual(parseLegacyAttempt("-- second attempt for 123"), { pr: 123, failures: 1 });
  t.deepEqual(parseLegacyAttempt("--third attempt for #456\r"), { pr: 456, failures: 2 });
  t.deepEqual(parseLegacyAttempt("-- 4th attempt for 7"), { pr: 7, failures: 3 });
  t.is(parseLegacyAttempt("-- closed PRs, not downloaded yet"), undefined);
  t.is(parseLegacyAttempt("-- second attempt for 007"), undefined);
});

// ---------------------------------------------------------------- repo scan

async function messyRepo(): Promise<string> {
  const repo = await fixtureRepo();
  // Broken JSON committed by an older tool; a record with an unexpected file.
  await writeFile(join(repo, "data/23000/pr_info.json"), (await fixtureText("data/23000/pr_info.json")).slice(0, 500));
  await writeFile(join(repo, "data/10014/notes.txt"), "hand edit\n");
  // A GraphQL error response stored as a record.
  await mkdir(join(repo, "data/555"));
  await writeFile(join(repo, "data/555/pr_info.json"), '{"errors": [{"message": "Something went wrong while executing your query. This may be the result of a timeout"}]}\n');
  // Leftover temp folders; both a full and a basic record of one PR.
  await mkdir(join(repo, "data/20000-temp/new"), { recursive: true });
  await mkdir(join(repo, "data/31000-basic-temp"), { recursive: true });
  await cp(join(FIXTURES, "data/11976-basic"), join(repo, "data/11976"), { recursive: true });
  await rm(join(repo, "data/11976/basic_pr_info.json"));
  await cp(join(FIXTURES, "data/10014/pr_info.json"), join(repo, "data/11976/pr_info.json"));
  // Entries that do not belong in data/.
  await mkdir(join(repo, "data/007"));
  await mkdir(join(repo, "data/123-old"));
  await writeFile(join(repo, "data/README.md"), "x\n");
  // Lists with comments, a legacy attempt comment, an invalid line, duplicates, CRLF.
  await writeFile(join(repo, "missing_prs.txt"), "\n17469\r\n-- second attempt for 17469\n-- third attempt for 23100\n12a\n17469\n");
  await writeFile(join(repo, "redownload.txt"), "23100\n19055");
  await writeFile(join(repo, "stubborn_prs.txt"), "-- stubborn ones\n4197\n4197\n\n\n");
  // Attempts and a queued event.
  await recordAttempt(repo, 23100, { at: "2025-03-20T00:00:00Z", writer: "run-7", errorClass: "ServerError", query: "full" });
  await mkdir(join(repo, "state/queue/19055"), { recursive: true });
  await writeFile(
    join(repo, "state/queue/19055/d-1.json"),
    JSON.stringify({ deliveryId: "d-1", event: "pull_request", action: "synchronize", receivedAt: "2024-11-14T23:29:55Z", pr: 19055, kind: "full" }, null, 2) + "\n",
  );
  await mkdir(join(repo, "state/attempts/junk"), { recursive: true });
  return repo;
}

test("scan of a messy repo: every kind of finding is reported per PR", async (t) => {
  const repo = await messyRepo();
  const scan = await scanRepo(repo);
  const pr = (n: number) => scan.prs.get(n)!;

  t.deepEqual(scan.unexpected, ["data/007", "data/123-old", "data/README.md", "state/attempts/junk"]);
  t.deepEqual(scan.invalidListLines, [{ list: "missing", line: "12a" }]);
  t.deepEqual(scan.unreadable, []);

  // Full, basic, missing timestamp.
  t.like(pr(20000).full, { valid: true, fetchedAt: "2024-12-16T11:21:15Z" });
  t.true(pr(20000).temp);
  t.like(pr(4197).basic, { valid: true, basic: true });
  t.is(pr(4197).full, undefined);
  t.deepEqual([...pr(4197).lists], ["stubborn"]);
  t.like(pr(15000).full, { valid: true });
  t.is(pr(15000).full!.fetchedAt, undefined);
  // Broken ones.
  t.like(pr(23000).full, { valid: false, problems: ["pr_info.json does not parse"] });
  t.like(pr(10014).full, { valid: false, problems: ["unexpected file notes.txt"] });
  t.false(pr(555).full!.valid);
  t.regex(pr(555).full!.problems.join(";"), /GraphQL errors \(1\): Something went wrong/);
  // Both kinds of record; a temp folder alone.
  t.truthy(pr(11976).full);
  t.truthy(pr(11976).basic);
  t.like(pr(11976).full, { valid: false });
  t.regex(pr(11976).full!.problems.join(";"), /is the record of PR 10014/);
  t.deepEqual(pr(31000), { pr: 31000, temp: true, lists: new Set(), attempts: [], queued: [] });
  // Listed without a record; legacy attempts plus attempt files.
  t.deepEqual([...pr(17469).lists], ["missing"]);
  t.is(pr(17469).full, undefined);
  t.is(pr(17469).attempts.length, 1);
  t.like(pr(17469).attempts[0], { errorClass: "legacy", path: undefined });
  t.deepEqual([...pr(23100).lists].sort(), ["redownload"]);
  t.deepEqual(pr(23100).attempts.map((a) => a.errorClass), ["legacy", "legacy", "ServerError"]);
  t.true(pr(23100).attempts[2]!.path!.startsWith("state/attempts/23100/"));
  t.deepEqual(pr(19055).queued, [{ deliveryId: "d-1", event: "pull_request", action: "synchronize", receivedAt: "2024-11-14T23:29:55.000Z", path: "state/queue/19055/d-1.json" }]);
  // Nothing for PRs no file mentions.
  t.false(scan.prs.has(99999));
});

test("scan with `only` reads just those PRs and agrees with the full scan", async (t) => {
  const repo = await messyRepo();
  const full = await scanRepo(repo);
  const only = [23100, 11976, 20000, 31000, 17469, 99999];
  const partial = await scanRepo(repo, { only });
  t.deepEqual([...partial.prs.keys()].sort(), [...only].sort());
  for (const n of only.filter((n) => n !== 99999)) t.deepEqual(partial.prs.get(n), full.prs.get(n), `PR ${n}`);
  t.deepEqual(partial.prs.get(99999), { pr: 99999, temp: false, lists: new Set(), attempts: [], queued: [] });
  t.deepEqual(partial.unexpected, []);
  t.deepEqual(partial.invalidListLines, full.invalidListLines);

  // Proof that folders outside `only` are not read: a record folder that cannot be read
  // (a symlink to itself: ELOOP, even for root) fails the full scan, not the partial one.
  await symlink("40000", join(repo, "data/40000"));
  await t.throwsAsync(scanRepo(repo), { instanceOf: DataError, message: /data\/40000: cannot read the record folder \(ELOOP\)/ });
  await t.notThrowsAsync(scanRepo(repo, { only: [23100] }));
});

test("head SHA index maps CI events to PRs, open records first", async (t) => {
  const repo = await fixtureRepo(["20000", "19055", "23000", "4197-basic"]);
  // PR 23001 (closed) shares 20000's head, PR 19999 (open) too but is older.
  const doc = await fixtureJson("data/20000/pr_info.json");
  const pull = (doc.data as { repository: { pullRequest: Record<string, unknown> } }).repository.pullRequest;
  for (const [n, state] of [[23001, "CLOSED"], [19999, "OPEN"]] as const) {
    const copy = structuredClone(doc);
    Object.assign((copy.data as { repository: { pullRequest: Record<string, unknown> } }).repository.pullRequest, { number: n, state });
    await writeRecord(repo, n, { basic: false, files: { "pr_info.json": copy }, fetchedAt: "2025-01-01T00:00:00Z" });
  }
  const index = headShaIndex(await scanRepo(repo));
  t.is(index.get(pull.headRefOid as string), 20000);
  t.is(index.get("bfffdcaed734a0b4f3449d4d3495fa204d7bc939"), 19055);
  t.is(index.size, 3); // 20000's head, 19055, 23000; the basic record has no headRefOid
});
