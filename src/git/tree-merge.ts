// prstate's in-process 3-way merge (DESIGN sections 4 and 5), the nodegit edge of `prstate
// push`. libgit2 never runs external merge drivers, and its own text merge is wrong for the
// data repo: it would splice non-overlapping edits of one JSON record into a record no
// download ever returned, or keep a PR number twice that both sides appended at different
// places of a list. So every path's result is decided here, explicitly:
//
// 1. Diff base->ours and base->theirs (libgit2, no rename pairing: a removed
//    data/N/pr_info.json and an added data/N-basic/basic_pr_info.json are two changes).
//    A path only theirs changed takes their version; a path only ours changed keeps ours.
// 2. EVERY path changed differently on both sides (not only what git would call a conflict)
//    gets mergeForPath's result: the very function the git merge driver runs, so `git pull`
//    and `prstate push` agree.
// 3. Non-content conflicts, per record folder: modify/delete (a valid record wins over the
//    deletion of a broken one, and wins whole: its other files come back too), and
//    `data/N` vs `data/N-basic` (the newest valid record stays, the other folder goes).
// 4. Normalisation: attempt files older than the fetch of the PR's merged record are removed
//    (a failure on one side that happened before the other side's success).
// 5. Verification of everything the merge touched; a failure is a PushError naming the path.
// 6. The result is written as our tree plus those updates (git_tree_create_updated).
//
// Why not Merge.trees' in-memory index: it works in nodegit 0.27 (async add/remove, and
// conflictRemove rejects for a path without conflicts), but its only contribution would be
// the one-sided changes of step 1, which the two diffs give anyway, while it builds an index
// of every file of the repo on each merge: on a 40 000-file repo Merge.trees alone took as
// long as this whole merge (0.4-0.9 s each, same machine and run), and the push loop merges
// once per retry under contention. Building the result as "our tree + updates" also means no
// libgit2 heuristic (text merge, rename pairing, conflict stages) can leak into the result:
// "no unmerged entries" holds by construction, and is still asserted (step 5).
import NodeGit from "nodegit";
import { PushError } from "../errors.js";
import { classifyPath } from "../layout.js";
import { mergeForPath } from "../merge/merge-for-path.js";
import { attemptTime, hasConflictMarkers, inspectRecordFolder, pickRecordKind, recordFolderOf } from "./record-folder.js";

export interface TreeMergeInput {
  repoDir: string;
  /** Our commit (HEAD). */
  ours: string;
  /** Their commit (the fetched remote head). */
  theirs: string;
  /** Their merge base; must exist in the repo (deepen a shallow clone first). */
  base: string;
}

export interface TreeMergeResult {
  /** The merged tree, written to the object database. */
  tree: string;
  /** Paths whose result a prstate merge rule decided (changed on both sides, or fixed by a folder rule); sorted. */
  pathsMerged: string[];
  /**
   * Conflicts resolved: paths both sides changed differently (for git, a conflict or an unsafe
   * text merge) plus record-folder conflicts git cannot see (`data/N` vs `data/N-basic`).
   */
  conflictsResolved: number;
  /** Attempt files removed because a fresher record was merged in; sorted. */
  attemptsCleared: string[];
}

const FILE_MODE = 0o100644;
const UPSERT = 0;
const REMOVE = 1;

/** A path's state on one side relative to the base: its blob, or null when deleted. */
interface Change {
  oid: string | null;
  mode: number;
}

interface Entry {
  oid: string;
  mode: number;
  tree: boolean;
}

type Content = Buffer | null;

/** Merges `theirs` into `ours` in memory and returns the verified merged tree. */
export async function treeMerge(input: TreeMergeInput): Promise<TreeMergeResult> {
  let repo: NodeGit.Repository;
  try {
    repo = await NodeGit.Repository.open(input.repoDir);
  } catch (err) {
    throw new PushError(`cannot open ${input.repoDir} with nodegit: ${(err as Error).message}`, { cause: err });
  }
  const base = await commitTree(repo, input.base);
  const ours = await commitTree(repo, input.ours);
  const theirs = await commitTree(repo, input.theirs);
  return new InProcessMerge(repo, base, ours, theirs).run();
}

async function commitTree(repo: NodeGit.Repository, commit: string): Promise<NodeGit.Tree> {
  try {
    return await (await repo.getCommit(commit)).getTree();
  } catch (err) {
    throw new PushError(`commit ${commit} is not in the repository (a shallow clone must be deepened first)`, { cause: err });
  }
}

/**
 * Path lookups in one tree with every folder read at most once. (nodegit's getEntry and
 * entryByPath re-parse each folder on the way, ~9 ms per call on a `data/` of 20 000 PRs.)
 */
class TreeReader {
  private readonly dirs = new Map<string, Promise<NodeGit.Tree | null>>();

  constructor(
    private readonly repo: NodeGit.Repository,
    readonly root: NodeGit.Tree,
  ) {}

  dir(path: string): Promise<NodeGit.Tree | null> {
    if (path === "") return Promise.resolve(this.root);
    let tree = this.dirs.get(path);
    if (!tree) {
      tree = this.entry(path).then((e) => (e && e.tree ? this.repo.getTree(e.oid) : null));
      this.dirs.set(path, tree);
    }
    return tree;
  }

  async entry(path: string): Promise<Entry | null> {
    const slash = path.lastIndexOf("/");
    const parent = await this.dir(slash < 0 ? "" : path.slice(0, slash));
    // _entryByName returns undefined for an absent name (entryByName throws a TypeError).
    const e = parent?._entryByName(path.slice(slash + 1));
    return e ? { oid: e.sha(), mode: e.filemodeRaw(), tree: e.isTree() } : null;
  }

  /** Names of the files directly inside `dir`. */
  async names(dir: string): Promise<string[]> {
    const tree = await this.dir(dir);
    return tree ? tree.entries().filter((e) => e.isBlob()).map((e) => e.name()) : [];
  }
}

class InProcessMerge {
  private readonly blobs = new Map<string, Buffer>();
  private readonly base: TreeReader;
  private readonly ours: TreeReader;
  private readonly theirs: TreeReader;
  /** Paths only theirs changed: taken from theirs. */
  private readonly theirsOnly = new Map<string, Change>();
  /** Decisions of the merge rules: path -> bytes (write) or null (delete). Override theirsOnly. */
  private readonly result = new Map<string, Content>();
  private conflictsResolved = 0;
  private readonly pathsMerged = new Set<string>();
  private readonly attemptsCleared: string[] = [];

  constructor(
    private readonly repo: NodeGit.Repository,
    base: NodeGit.Tree,
    ours: NodeGit.Tree,
    theirs: NodeGit.Tree,
  ) {
    this.base = new TreeReader(repo, base);
    this.ours = new TreeReader(repo, ours);
    this.theirs = new TreeReader(repo, theirs);
  }

  async run(): Promise<TreeMergeResult> {
    // Sequential on purpose, here and below: libgit2 calls take nodegit's global lock, so
    // running them concurrently only adds contention (measured: 300 blob reads, 2x slower).
    const oursChanges = await this.changes(this.ours);
    const theirsChanges = await this.changes(this.theirs);
    const bothChanged: string[] = [];
    for (const [path, change] of theirsChanges) {
      const mine = oursChanges.get(path);
      if (!mine) this.theirsOnly.set(path, change);
      else if (mine.oid !== change.oid) bothChanged.push(path);
    }
    bothChanged.sort();
    this.conflictsResolved = bothChanged.length;

    const recordDirs = new Map<string, { pr: number; basic: boolean }>();
    for (const path of bothChanged) {
      const folder = recordFolderOf(path);
      if (folder) recordDirs.set(folder.dir, folder);
      else await this.mergePath(path);
    }
    for (const [dir, f] of [...recordDirs].sort(([a], [b]) => (a < b ? -1 : 1))) await this.mergeRecordFolder(dir, f.pr, f.basic, bothChanged);

    const changed = new Set([...oursChanges.keys(), ...theirsChanges.keys()]);
    const touchedPrs = new Set<number>();
    for (const p of changed) {
      const folder = recordFolderOf(p);
      if (folder) touchedPrs.add(folder.pr);
    }
    for (const pr of [...touchedPrs].sort((a, b) => a - b)) {
      await this.keepOneRecordKind(pr);
      await this.clearObsoleteAttempts(pr);
    }

    const unmerged = bothChanged.find((p) => !this.result.has(p));
    if (unmerged !== undefined) fail(unmerged, "left unmerged");
    await this.verify(new Set([...changed, ...this.result.keys()]), touchedPrs);
    return {
      tree: await this.writeTree(),
      pathsMerged: [...this.pathsMerged].sort(),
      conflictsResolved: this.conflictsResolved,
      attemptsCleared: [...this.attemptsCleared].sort(),
    };
  }

  // ---- reading ------------------------------------------------------------------------------

  /** Paths that differ between the base and one side (files only, recursive, no rename pairing). */
  private async changes(side: TreeReader): Promise<Map<string, Change>> {
    const options = { flags: NodeGit.Diff.OPTION.IGNORE_SUBMODULES } as NodeGit.DiffOptions;
    const diff = await NodeGit.Diff.treeToTree(this.repo, this.base.root, side.root, options);
    const out = new Map<string, Change>();
    for (let i = 0, n = diff.numDeltas(); i < n; i++) {
      const delta = diff.getDelta(i);
      if (delta.status() === NodeGit.Diff.DELTA.DELETED) out.set(delta.oldFile().path(), { oid: null, mode: delta.oldFile().mode() });
      else out.set(delta.newFile().path(), { oid: delta.newFile().id().tostrS(), mode: delta.newFile().mode() });
    }
    return out;
  }

  private async blob(oid: string): Promise<Buffer> {
    let bytes = this.blobs.get(oid);
    if (!bytes) {
      bytes = Buffer.from((await this.repo.getBlob(oid)).content());
      this.blobs.set(oid, bytes);
    }
    return bytes;
  }

  /** A file's bytes in one input tree, null when absent. */
  private async read(side: TreeReader, path: string): Promise<Content> {
    const e = await side.entry(path);
    return e && !e.tree ? this.blob(e.oid) : null;
  }

  private async sides(path: string): Promise<[Content, Content, Content]> {
    return [await this.read(this.base, path), await this.read(this.ours, path), await this.read(this.theirs, path)];
  }

  /** The names a merged folder can hold: a merge never invents a name neither side has. */
  private async candidateNames(dir: string): Promise<string[]> {
    const a = await this.ours.names(dir);
    const b = await this.theirs.names(dir);
    return [...new Set([...a, ...b])].sort();
  }

  /** A file's bytes in the merge so far. */
  private async merged(path: string): Promise<Content> {
    if (this.result.has(path)) return this.result.get(path)!;
    const taken = this.theirsOnly.get(path);
    if (taken) return taken.oid === null ? null : this.blob(taken.oid);
    return this.read(this.ours, path);
  }

  private async mergedFolder(dir: string): Promise<Map<string, Buffer>> {
    const files = new Map<string, Buffer>();
    for (const name of await this.candidateNames(dir)) {
      const bytes = await this.merged(`${dir}/${name}`);
      if (bytes) files.set(name, bytes);
    }
    return files;
  }

  // ---- resolving ------------------------------------------------------------------------------

  /** Records the final bytes of `path`; `rule` = a merge rule decided it (listed in pathsMerged). */
  private decide(path: string, content: Content, rule = true): void {
    this.result.set(path, content);
    if (rule) this.pathsMerged.add(path);
  }

  /** A path outside record folders changed on both sides: the driver's merge function decides. */
  private async mergePath(path: string): Promise<void> {
    const [base, ours, theirs] = await this.sides(path);
    const outcome = mergeForPath(path, base, ours, theirs);
    if (outcome.ok) return this.decide(path, outcome.content);
    const kind = classifyPath(path).kind;
    if (kind === "attempt" || kind === "queue") {
      // Distinct names make these conflict-free by construction; should one still collide, no
      // event and no failure is dropped: a present file beats a deletion, and of two versions
      // the greater bytes win (the same answer in both merge directions).
      const keep = ours === null ? theirs : theirs === null ? ours : Buffer.compare(ours, theirs) >= 0 ? ours : theirs;
      return this.decide(path, keep);
    }
    throw new PushError(`cannot merge ${path}: ${outcome.reason}`);
  }

  /**
   * A record folder both sides changed. If one side removed the folder and the other kept
   * (or rewrote) it, the folder is decided whole: a valid record comes back with all its
   * files, a broken one goes with all its files. Otherwise each file both sides changed goes
   * through mergeForPath (whole-file choice, newest wins).
   */
  private async mergeRecordFolder(dir: string, pr: number, basic: boolean, bothChanged: string[]): Promise<void> {
    const oursNames = await this.ours.names(dir);
    const theirsNames = await this.theirs.names(dir);
    if (oursNames.length === 0 || theirsNames.length === 0) {
      const [present, names] = oursNames.length === 0 ? [this.theirs, theirsNames] : [this.ours, oursNames];
      const files = new Map<string, Buffer>();
      for (const name of names) files.set(name, (await this.read(present, `${dir}/${name}`))!);
      const keep = inspectRecordFolder(pr, basic, files).valid;
      for (const name of names) this.decide(`${dir}/${name}`, keep ? files.get(name)! : null);
      return;
    }
    for (const path of bothChanged) {
      if (recordFolderOf(path)?.dir !== dir) continue;
      const [base, ours, theirs] = await this.sides(path);
      const outcome = mergeForPath(path, base, ours, theirs);
      if (!outcome.ok) throw new PushError(`cannot merge ${path}: ${outcome.reason}`);
      this.decide(path, outcome.content);
    }
  }

  /** `data/N` and `data/N-basic` both present after the merge: the newest valid record stays. */
  private async keepOneRecordKind(pr: number): Promise<void> {
    const fullDir = `data/${pr}`;
    const basicDir = `data/${pr}-basic`;
    const full = await this.mergedFolder(fullDir);
    const basic = await this.mergedFolder(basicDir);
    if (full.size === 0 || basic.size === 0) return;
    const winner = pickRecordKind(inspectRecordFolder(pr, false, full), inspectRecordFolder(pr, true, basic));
    const [loserDir, loser] = winner === "full" ? [basicDir, basic] : [fullDir, full];
    for (const name of loser.keys()) this.decide(`${loserDir}/${name}`, null);
    this.conflictsResolved++;
  }

  /**
   * Attempt files of PR N that happened before the fetch of N's merged record are obsolete:
   * one side failed, the other succeeded later. A failure after the record's fetch (a failed
   * re-download that kept the good record) stays and keeps counting.
   */
  private async clearObsoleteAttempts(pr: number): Promise<void> {
    let fetchedAt: number | undefined;
    for (const [dir, basic] of [[`data/${pr}`, false], [`data/${pr}-basic`, true]] as const) {
      const files = await this.mergedFolder(dir);
      if (files.size > 0) fetchedAt = inspectRecordFolder(pr, basic, files).fetchedAt ?? fetchedAt;
    }
    if (fetchedAt === undefined) return;
    const dir = `state/attempts/${pr}`;
    for (const name of await this.candidateNames(dir)) {
      const path = `${dir}/${name}`;
      const bytes = await this.merged(path);
      if (bytes === null) continue;
      const at = attemptTime(name, bytes);
      if (at !== undefined && at < fetchedAt) {
        this.decide(path, null, false);
        this.attemptsCleared.push(path);
      }
    }
  }

  // ---- verifying and writing ---------------------------------------------------------------

  /**
   * DESIGN section 4, last paragraph, over everything the merge touched: what neither side
   * changed since the base was verified when it was committed, and re-reading tens of
   * thousands of untouched records on every push would slow the loop down under contention.
   */
  private async verify(touched: Set<string>, touchedPrs: Set<number>): Promise<void> {
    for (const path of [...touched].sort()) {
      const bytes = await this.merged(path);
      if (bytes === null) continue;
      if (/~(HEAD|ours|theirs)$/i.test(path) || (/^(data|state)\//.test(path) && path.includes("~"))) fail(path, "a conflict copy (path~side) would be committed");
      if (/^data\/[^/]+-temp\//.test(path)) fail(path, "a -temp download folder would be committed");
      const kind = classifyPath(path).kind;
      if (kind === "record" || kind === "timestamp") continue; // checked per folder below
      if (hasConflictMarkers(bytes.toString("utf8"))) fail(path, "holds conflict markers");
      if (kind === "watermark" || kind === "checks") {
        try {
          JSON.parse(bytes.toString("utf8"));
        } catch {
          fail(path, "does not parse as JSON");
        }
      }
    }
    for (const pr of [...touchedPrs].sort((a, b) => a - b)) {
      const present: string[] = [];
      for (const [dir, basic] of [[`data/${pr}`, false], [`data/${pr}-basic`, true]] as const) {
        const files = await this.mergedFolder(dir);
        if (files.size === 0) continue;
        present.push(dir);
        const info = inspectRecordFolder(pr, basic, files);
        if (!info.valid) fail(...splitProblem(info.problems[0]!));
        if (info.fetchedAt === undefined) fail(`${dir}/timestamp.txt`, "missing: the record has no fetch time");
      }
      if (present.length > 1) fail(present[1]!, `PR #${pr} would have both a full and a basic record`);
    }
  }

  /** Our tree plus every change the merge takes from theirs or decided itself. */
  private async writeTree(): Promise<string> {
    const wanted = new Map<string, { oid: string; mode: number } | null>();
    for (const [path, c] of this.theirsOnly) wanted.set(path, c.oid === null ? null : { oid: c.oid, mode: c.mode });
    for (const [path, content] of this.result) {
      if (content === null) wanted.set(path, null);
      else {
        const mode = (await this.ours.entry(path))?.mode ?? (await this.theirs.entry(path))?.mode ?? FILE_MODE;
        wanted.set(path, { oid: (await this.repo.createBlobFromBuffer(content)).tostrS(), mode });
      }
    }
    const updates: NodeGit.TreeUpdate[] = [];
    for (const [path, want] of [...wanted].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const have = await this.ours.entry(path);
      if (have?.tree) fail(path, "a file on one side, a folder on the other");
      if (want === null ? have === null : have !== null && have.oid === want.oid && have.mode === want.mode) continue;
      if (want !== null) await this.refuseFileAsFolder(path, wanted);
      const update = new NodeGit.TreeUpdate();
      update.path = path;
      if (want === null) update.action = REMOVE;
      else {
        update.action = UPSERT;
        update.id = NodeGit.Oid.fromString(want.oid);
        update.filemode = want.mode;
      }
      updates.push(update);
    }
    if (updates.length === 0) return this.ours.root.id().tostrS();
    return (await this.ours.root.createUpdated(this.repo, updates.length, updates as unknown as NodeGit.TreeUpdate)).tostrS();
  }

  /** A file added under a path that is a file in the merged tree (`a` file vs `a/b`) is a conflict git would report. */
  private async refuseFileAsFolder(path: string, wanted: Map<string, { oid: string; mode: number } | null>): Promise<void> {
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join("/");
      const stays = wanted.has(prefix) ? wanted.get(prefix) !== null : (await this.ours.entry(prefix))?.tree === false;
      if (stays) fail(path, `${prefix} is a file on the other side`);
    }
  }
}

function splitProblem(problem: string): [string, string] {
  const at = problem.indexOf(": ");
  return at < 0 ? [problem, "invalid"] : [problem.slice(0, at), problem.slice(at + 2)];
}

function fail(path: string, why: string): never {
  throw new PushError(`merged tree fails verification, nothing committed: ${path}: ${why}`);
}
