// Before a cycle touches anything: the merge driver is installed (a clone without it would
// push merges git resolved with conflict markers), the tracked tree is clean (the cycle
// commits only its own changes), crashed writes are repaired, and the branch is brought up
// to date with the remote so the cycle plans against what other writers already did.
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { ConfigError, GitError } from "../errors.js";
import { currentBranch, fastForwardTo, fetch, isAncestor, isTrackedClean, revParse, runGit, tryRevParse } from "../git/git-cli.js";
import { checkInstalled } from "../install/install.js";
import { DATA_DIR, prNumber } from "../layout.js";
import { cleanupRecordTemp } from "../store/record-store.js";

export interface PreflightResult {
  branch: string;
  hasRemote: boolean;
  /** What was done, for the log. */
  summary: string;
}

async function repairTempFolders(repo: string): Promise<string[]> {
  let names: string[] = [];
  try {
    names = await readdir(join(repo, DATA_DIR));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const repaired: string[] = [];
  for (const name of names) {
    const m = /^([1-9][0-9]*)(?:-basic)?-temp$/.exec(name);
    if (!m) continue;
    const { restored, removed } = await cleanupRecordTemp(repo, prNumber(m[1]!));
    repaired.push(...restored, ...removed);
  }
  return repaired;
}

/**
 * `repair` (default true) puts back or removes what an interrupted record write left in
 * data/; a dry run passes false, because it must leave the work tree exactly as it is.
 */
export async function preflight(repo: string, opts: { remote: string; fetch: boolean; requireDriver: boolean; repair?: boolean; branch?: string }): Promise<PreflightResult> {
  if ((await tryRevParse(repo, "HEAD")) === null) throw new GitError(`${repo}: not a git repository with at least one commit`);
  if (opts.requireDriver) {
    const missing = await checkInstalled(repo);
    if (missing.length > 0) throw new ConfigError(`merge driver not installed in ${repo} (${missing[0]}); run 'prstate install --repo ${repo}'`);
  }
  const notes: string[] = [];
  const repaired = opts.repair === false ? [] : await repairTempFolders(repo);
  if (repaired.length > 0) {
    // A record write interrupted between its two renames: the folders go back to what the
    // last commit holds (the interrupted run committed nothing, so its download is redone).
    const literal = { GIT_LITERAL_PATHSPECS: "1" };
    for (const folder of new Set(repaired.map((p) => p.replace(/-temp$/, "")))) {
      // Exit 1: the folder is not in HEAD (a new PR); then only the untracked files go.
      await runGit(repo, ["checkout", "--quiet", "HEAD", "--", folder], { okCodes: [1], env: literal });
      await runGit(repo, ["clean", "--quiet", "-fd", "--", folder], { env: literal });
    }
    notes.push(`repaired ${repaired.length} interrupted write(s)`);
  }
  if (!(await isTrackedClean(repo))) {
    throw new GitError(`${repo} has uncommitted changes to tracked files (an interrupted run, or an edit by hand); commit or discard them first`);
  }

  const branch = await currentBranch(repo);
  if (opts.branch !== undefined && opts.branch !== branch) {
    throw new ConfigError(`branch: prstate.yaml names '${opts.branch}', but ${repo} has '${branch}' checked out; check out '${opts.branch}'`);
  }
  const remotes = (await runGit(repo, ["remote"])).stdout.split("\n").map((s) => s.trim());
  const hasRemote = remotes.includes(opts.remote);
  if (hasRemote && opts.fetch) {
    const theirs = await fetch(repo, opts.remote, branch);
    const ours = await revParse(repo, "HEAD");
    if (ours !== theirs && (await isAncestor(repo, ours, theirs))) {
      await fastForwardTo(repo, theirs);
      notes.push(`fast-forwarded to ${opts.remote}/${branch}`);
    } else if (ours !== theirs && !(await isAncestor(repo, theirs, ours))) {
      // Unpushed commits of an interrupted run: the push at the end merges them.
      notes.push(`diverged from ${opts.remote}/${branch}; the push will merge`);
    }
  }
  return { branch, hasRemote, summary: notes.length > 0 ? notes.join("; ") : "ok" };
}
