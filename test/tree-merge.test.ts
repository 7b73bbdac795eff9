// The in-process merge of `prstate push` on real git repos: each case commits a base and two
// sides with the real git binary, runs treeMerge (nodegit), and reads the merged tree back
// with git. Where the point is that libgit2's text merge would be wrong, the test first
// checks with `git merge-file` that a text merge WOULD succeed silently, so the case cannot
// pass by accident. Every case also merges in the other direction and expects the same tree.
import test from "ava";
import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { PushError } from "../src/errors.js";
import { treeMerge, type TreeMergeResult } from "../src/git/tree-merge.js";
import { cleanupTempDirs, git, initRepo, tempDir, writeFiles } from "./helpers/git-repo.js";

test.after.always(cleanupTempDirs);

const FIXTURE = readFileSync(new URL("../../fixtures/data/20000/pr_info.json", import.meta.url), "utf8");
const BASIC_FIXTURE = readFileSync(new URL("../../fixtures/data/4197-basic/basic_pr_info.json", import.meta.url), "utf8");

/** A real recorded pr_info.json, re-numbered, in jq layout (so line-based text merges apply). */
function record(pr: number, updatedAt: string, edit: (p: Record<string, unknown>) => void = () => {}, template = FIXTURE): string {
  const doc = JSON.parse(template);
  const p = doc.data.repository.pullRequest;
  p.number = pr;
  p.updatedAt = updatedAt;
  edit(p);
  return `${JSON.stringify(doc, null, 2)}\n`;
}
const basicRecord = (pr: number, updatedAt: string) => record(pr, updatedAt, () => {}, BASIC_FIXTURE);
const reactions = (pr: number) => `${JSON.stringify({ data: { repository: { pullRequest: { number: pr, comments: { nodes: [] } } } } }, null, 2)}\n`;
const stamp = (iso: string) => `${iso}\n`;
const attempt = (at: string, writer: string) => `${JSON.stringify({ at, writer, errorClass: "TimeoutError", query: "full" }, null, 2)}\n`;
const attemptName = (at: string, writer: string) => `${at.replace(/:/g, "-")}-${writer}.json`;

type Changes = Record<string, string | null>;

interface Scenario {
  repo: string;
  base: string;
  ours: string;
  theirs: string;
}

/** Commits `base`, then `ours` and `theirs` as two children of it (null = delete the path). */
async function scenario(base: Changes, ours: Changes, theirs: Changes): Promise<Scenario> {
  const repo = await initRepo();
  const commit = async (changes: Changes, message: string) => {
    for (const [path, content] of Object.entries(changes)) {
      if (content === null) await rm(join(repo, path), { recursive: true, force: true });
      else await writeFiles(repo, { [path]: content });
    }
    await git(repo, ["add", "-A"]);
    await git(repo, ["commit", "-q", "--allow-empty", "-m", message]);
    return (await git(repo, ["rev-parse", "HEAD"])).stdout.trim();
  };
  const b = await commit({ "README.md": "data repo\n", ...base }, "base");
  const o = await commit(ours, "ours");
  await git(repo, ["checkout", "-q", "--detach", b]);
  const t = await commit(theirs, "theirs");
  return { repo, base: b, ours: o, theirs: t };
}

/** Merges both ways; the two directions must give the same tree. */
async function mergeBothWays(s: Scenario): Promise<TreeMergeResult> {
  const one = await treeMerge({ repoDir: s.repo, ours: s.ours, theirs: s.theirs, base: s.base });
  const other = await treeMerge({ repoDir: s.repo, ours: s.theirs, theirs: s.ours, base: s.base });
  if (one.tree !== other.tree) throw new Error(`merge depends on its direction: ${one.tree} vs ${other.tree}`);
  return one;
}

async function files(repo: string, tree: string): Promise<string[]> {
  return (await git(repo, ["ls-tree", "-r", "--name-only", tree])).stdout.split("\n").filter(Boolean);
}

async function show(repo: string, tree: string, path: string): Promise<string> {
  return (await git(repo, ["cat-file", "blob", `${tree}:${path}`])).stdout;
}

/** What a plain line-based 3-way merge (git merge-file, libgit2's algorithm) makes of a file. */
async function textMerge(base: string, ours: string, theirs: string): Promise<{ clean: boolean; text: string }> {
  const dir = await tempDir();
  await writeFiles(dir, { base, ours, theirs });
  const r = await git(dir, ["merge-file", "-p", "ours", "base", "theirs"], { allowFail: true });
  return { clean: r.code === 0, text: r.stdout };
}

test("a record both sides edited in different places is chosen whole (newer updatedAt), not text-merged", async (t) => {
  const base = record(1, "2024-12-16T11:03:37Z");
  // Ours: a re-download that saw a CI-ish change near the top, updatedAt unchanged.
  const ours = record(1, "2024-12-16T11:03:37Z", (p) => (p.additions = 5));
  // Theirs: a later download after the title was edited (updatedAt bumped), far below.
  const theirs = record(1, "2024-12-17T08:00:00Z", (p) => (p.title = "feat: a new title"));
  const text = await textMerge(base, ours, theirs);
  t.true(text.clean, "precondition: a text merge would splice both edits silently");
  t.not(text.text, theirs);

  const s = await scenario(
    { "data/1/pr_info.json": base, "data/1/timestamp.txt": stamp("2024-12-16T11:05:00Z") },
    { "data/1/pr_info.json": ours, "data/1/timestamp.txt": stamp("2024-12-17T07:00:00Z") },
    { "data/1/pr_info.json": theirs, "data/1/timestamp.txt": stamp("2024-12-17T08:01:00Z") },
  );
  const merged = await mergeBothWays(s);
  t.is(await show(s.repo, merged.tree, "data/1/pr_info.json"), theirs);
  t.is(await show(s.repo, merged.tree, "data/1/timestamp.txt"), stamp("2024-12-17T08:01:00Z"));
  t.deepEqual(merged.pathsMerged, ["data/1/pr_info.json", "data/1/timestamp.txt"]);
});

test("both sides adding the same PR at different places of a list keep it once (set merge)", async (t) => {
  const base = "-- missing PRs, open first\n1\n2\n3\n4\n5\n";
  const ours = "-- missing PRs, open first\n42\n1\n2\n3\n4\n5\n8\n";
  const theirs = "-- missing PRs, open first\n1\n3\n42\n4\n5\n";
  const text = await textMerge(base, ours, theirs);
  t.true(text.clean, "precondition: a text merge would succeed silently");
  t.is(text.text.split("\n").filter((l) => l === "42").length, 2, "precondition: a text merge would keep 42 twice");

  const s = await scenario({ "missing_prs.txt": base }, { "missing_prs.txt": ours }, { "missing_prs.txt": theirs });
  const merged = await mergeBothWays(s);
  const lines = (await show(s.repo, merged.tree, "missing_prs.txt")).split("\n").filter(Boolean);
  t.is(lines.filter((l) => l === "42").length, 1);
  t.deepEqual(new Set(lines), new Set(["-- missing PRs, open first", "42", "1", "3", "4", "5", "8"]), "2 was removed by theirs and stays removed");
  t.deepEqual(merged.pathsMerged, ["missing_prs.txt"]);
});

test("modify/delete: a valid fresh record wins whole over the removal of broken data; a still-broken one is removed", async (t) => {
  const s = await scenario(
    {
      "data/5/pr_info.json": "{ truncated",
      "data/5/pr_reactions.json": reactions(5),
      "data/5/timestamp.txt": stamp("2024-12-01T00:00:00Z"),
      "data/6/pr_info.json": "{ truncated",
      "data/6/timestamp.txt": stamp("2024-12-01T00:00:00Z"),
    },
    // Ours: the integrity check removed both broken folders.
    { "data/5": null, "data/6": null },
    // Theirs: re-downloaded 5 (pr_reactions.json unchanged) and rewrote 6, still broken.
    {
      "data/5/pr_info.json": record(5, "2024-12-02T00:00:00Z"),
      "data/5/timestamp.txt": stamp("2024-12-02T00:00:05Z"),
      "data/6/pr_info.json": "{ still truncated",
    },
  );
  const merged = await mergeBothWays(s);
  const names = await files(s.repo, merged.tree);
  t.deepEqual(
    names.filter((n) => n.startsWith("data/")),
    ["data/5/pr_info.json", "data/5/pr_reactions.json", "data/5/timestamp.txt"],
    "5 comes back whole (its unchanged reactions too), 6 is gone",
  );
  t.is(await show(s.repo, merged.tree, "data/5/pr_info.json"), record(5, "2024-12-02T00:00:00Z"));
  t.true(merged.conflictsResolved >= 2);
});

test("data/N vs data/N-basic: the newest valid record stays, a full record beats a basic one of the same age", async (t) => {
  const s = await scenario(
    { "missing_prs.txt": "7\n8\n" },
    {
      "data/7/pr_info.json": record(7, "2024-12-01T00:00:00Z"),
      "data/7/pr_reactions.json": reactions(7),
      "data/7/timestamp.txt": stamp("2024-12-03T00:00:00Z"),
      "data/8/pr_info.json": record(8, "2024-12-01T00:00:00Z"),
      "data/8/timestamp.txt": stamp("2024-12-03T00:00:00Z"),
      "missing_prs.txt": "",
    },
    {
      "data/7-basic/basic_pr_info.json": basicRecord(7, "2024-12-02T00:00:00Z"),
      "data/7-basic/timestamp.txt": stamp("2024-12-02T00:00:10Z"),
      "data/8-basic/basic_pr_info.json": basicRecord(8, "2024-12-01T00:00:00Z"),
      "data/8-basic/timestamp.txt": stamp("2024-12-03T00:00:00Z"),
      "missing_prs.txt": "",
    },
  );
  const merged = await mergeBothWays(s);
  const data = (await files(s.repo, merged.tree)).filter((n) => n.startsWith("data/"));
  t.deepEqual(data, ["data/7-basic/basic_pr_info.json", "data/7-basic/timestamp.txt", "data/8/pr_info.json", "data/8/timestamp.txt"]);
  t.is(merged.conflictsResolved, 2);
});

test("attempt files older than a record merged in from the other side are removed; later ones stay", async (t) => {
  const early = "2024-12-05T00:00:00.000Z";
  const late = "2024-12-12T00:00:00.000Z";
  const s = await scenario(
    { "missing_prs.txt": "9\n" },
    // Ours: two failed downloads, one before and one after theirs' success.
    {
      [`state/attempts/9/${attemptName(early, "w1")}`]: attempt(early, "w1"),
      [`state/attempts/9/${attemptName(late, "w1")}`]: attempt(late, "w1"),
    },
    // Theirs: the download succeeded on the 10th; 9 left the missing list.
    {
      "data/9/pr_info.json": record(9, "2024-12-09T00:00:00Z"),
      "data/9/pr_reactions.json": reactions(9),
      "data/9/timestamp.txt": stamp("2024-12-10T00:00:00Z"),
      "missing_prs.txt": "",
    },
  );
  const merged = await mergeBothWays(s);
  const names = await files(s.repo, merged.tree);
  t.false(names.includes(`state/attempts/9/${attemptName(early, "w1")}`));
  t.true(names.includes(`state/attempts/9/${attemptName(late, "w1")}`));
  t.true(names.includes("data/9/pr_info.json"));
  t.deepEqual(merged.attemptsCleared, [`state/attempts/9/${attemptName(early, "w1")}`]);
});

test("verification refuses a merged tree with a broken record, a conflict copy, mixed record kinds or markers", async (t) => {
  const cases: [string, Changes, RegExp][] = [
    ["unparseable record", { "data/11/pr_info.json": "{ nope", "data/11/timestamp.txt": stamp("2024-12-01T00:00:00Z") }, /data\/11\/pr_info\.json: does not parse/],
    [
      "basic file in a full folder",
      { "data/12/pr_info.json": record(12, "2024-12-01T00:00:00Z"), "data/12/basic_pr_info.json": basicRecord(12, "2024-12-01T00:00:00Z"), "data/12/timestamp.txt": stamp("2024-12-01T00:00:00Z") },
      /data\/12\/basic_pr_info\.json: belongs in a basic record/,
    ],
    ["record of another PR", { "data/13/pr_info.json": record(31, "2024-12-01T00:00:00Z"), "data/13/timestamp.txt": stamp("2024-12-01T00:00:00Z") }, /data\/13\/pr_info\.json: holds PR #31/],
    ["no fetch time", { "data/14/pr_info.json": record(14, "2024-12-01T00:00:00Z") }, /data\/14\/timestamp\.txt: missing/],
    ["conflict copy", { "data/15/pr_info.json~HEAD": record(15, "2024-12-01T00:00:00Z") }, /data\/15\/pr_info\.json~HEAD: a conflict copy/],
    ["conflict markers", { "redownload.txt": "<<<<<<< ours\n1\n=======\n2\n>>>>>>> theirs\n" }, /redownload\.txt: holds conflict markers/],
    ["leftover temp folder", { "data/16-temp/pr_info.json": record(16, "2024-12-01T00:00:00Z") }, /data\/16-temp\/pr_info\.json: a -temp download folder/],
  ];
  for (const [name, bad, message] of cases) {
    // The bad change is on one side only (libgit2 takes it as is); the other side changes something else.
    const s = await scenario({ "missing_prs.txt": "1\n" }, bad, { "missing_prs.txt": "1\n2\n" });
    const err = await t.throwsAsync(treeMerge({ repoDir: s.repo, ours: s.ours, theirs: s.theirs, base: s.base }), { instanceOf: PushError }, name);
    t.regex(err?.message ?? "", message, name);
  }
});

test("a path without a merge rule changed on both sides is a PushError naming it", async (t) => {
  const s = await scenario({ "notes.md": "a\n" }, { "notes.md": "b\n" }, { "notes.md": "c\n" });
  const err = await t.throwsAsync(treeMerge({ repoDir: s.repo, ours: s.ours, theirs: s.theirs, base: s.base }), { instanceOf: PushError });
  t.regex(err?.message ?? "", /notes\.md/);
});

test("changes on one side only and identical changes on both are taken as they are", async (t) => {
  const rec = record(20, "2024-12-01T00:00:00Z");
  const s = await scenario(
    { "data/20/pr_info.json": rec, "data/20/timestamp.txt": stamp("2024-12-01T00:00:00Z"), "redownload.txt": "20\n" },
    { "redownload.txt": "", "stubborn_prs.txt": "33\n" },
    { "redownload.txt": "", "data/21/pr_info.json": record(21, "2024-12-01T00:00:00Z"), "data/21/timestamp.txt": stamp("2024-12-01T00:00:00Z") },
  );
  const merged = await mergeBothWays(s);
  t.deepEqual(await files(s.repo, merged.tree), [
    "README.md",
    "data/20/pr_info.json",
    "data/20/timestamp.txt",
    "data/21/pr_info.json",
    "data/21/timestamp.txt",
    "redownload.txt",
    "stubborn_prs.txt",
  ]);
  t.is(await show(s.repo, merged.tree, "redownload.txt"), "");
  t.deepEqual(merged.pathsMerged, []);
  t.is(merged.conflictsResolved, 0);
});
