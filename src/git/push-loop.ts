// `prstate push` (DESIGN section 5): push; when the remote moved (non-fast-forward) or is
// busy landing another push ("cannot lock ref"), fetch, merge the remote head in-process
// with the driver's own merge functions (tree-merge.ts), commit the merge with the remote
// head as a parent, and push again, with jittered exponential backoff and a bounded number
// of tries. It never force-pushes (git-cli's push refuses `+` refspecs) and never drops a
// remote commit: the only way our branch moves is a fast-forward to a merge that contains
// the fetched remote head.
import { hostname } from "node:os";
import { ConfigError, GitError, PushError, redact } from "../errors.js";
import { checkInstalled } from "../install/install.js";
import { mergeCommitMessage } from "./commit-message.js";
import {
  commitTree,
  currentBranch,
  deepen,
  fastForwardTo,
  fetch,
  isAncestor,
  isShallow,
  isTrackedClean,
  mergeBase,
  push,
  revParse,
  runGit,
  type PushRejection,
} from "./git-cli.js";

// The commit helpers sync uses live with the other git CLI calls; re-exported here so the
// push side of the package has one import.
export { commitPaths, commitStaged } from "./git-cli.js";

export interface PushWithRetryOptions {
  repoDir: string;
  /** Default "origin". */
  remote?: string;
  /** Remote branch to update; default: the checked-out branch. */
  branch?: string;
  /** Pushes attempted before giving up (default 8). */
  maxTries?: number;
  /** First backoff delay; doubles per try, capped at maxDelayMs (default 250). */
  baseDelayMs?: number;
  /** Upper bound of one backoff delay (default 10 000). */
  maxDelayMs?: number;
  log?: (line: string) => void;
  /** Written into merge commits' Prstate-Writer trailer (default: CI run id or host-pid). */
  writer?: string;
  /** Injected for tests of the backoff; default setTimeout. */
  sleep?: (ms: number) => Promise<void>;
  /** Injected jitter source in [0, 1); default Math.random. */
  random?: () => number;
}

export interface PushWithRetryResult {
  /** A push updated the remote branch. */
  pushed: boolean;
  /** Pushes attempted. */
  tries: number;
  /** Merge commits created. */
  merges: number;
  /** Conflicts resolved by the in-process merges, summed. */
  conflictsResolved: number;
  /** The remote branch already held HEAD: nothing needed pushing. */
  upToDate: boolean;
}

const DEFAULTS = { remote: "origin", maxTries: 8, baseDelayMs: 250, maxDelayMs: 10_000 };

/** How far a shallow clone is deepened per step before giving up and unshallowing. */
const DEEPEN_STEPS = [16, 64, 256, 1024];

/** The writer id of this process: the Actions run when there is one, else host and pid. */
export function defaultWriter(env: NodeJS.ProcessEnv = process.env): string {
  if (env.GITHUB_RUN_ID) return `${env.GITHUB_WORKFLOW ?? "actions"}#${env.GITHUB_RUN_ID}.${env.GITHUB_RUN_ATTEMPT ?? "1"}`;
  return `${hostname()}-${process.pid}`;
}

/**
 * "Equal jitter" exponential backoff: half of the capped exponential delay is fixed, half is
 * random, so writers that collided once spread out instead of colliding again in lockstep.
 */
export function backoffDelay(attempt: number, baseDelayMs: number, maxDelayMs: number, random: () => number): number {
  const cap = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(cap / 2 + (cap / 2) * Math.min(Math.max(random(), 0), 1));
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Pushes HEAD to `<remote>/<branch>`, merging concurrent remote work until the push lands. */
export async function pushWithRetry(opts: PushWithRetryOptions): Promise<PushWithRetryResult> {
  const repoDir = opts.repoDir;
  const remote = opts.remote ?? DEFAULTS.remote;
  const maxTries = opts.maxTries ?? DEFAULTS.maxTries;
  if (!Number.isInteger(maxTries) || maxTries < 1) throw new GitError(`maxTries must be a positive integer, got ${maxTries}`);
  const log = (line: string) => opts.log?.(redact(line));
  const sleep = opts.sleep ?? defaultSleep;
  const random = opts.random ?? Math.random;
  const writer = opts.writer ?? defaultWriter();

  const missing = await checkInstalled(repoDir);
  if (missing.length > 0) {
    throw new ConfigError(`refusing to push from ${repoDir}: the prstate merge driver is not installed (missing: ${missing.join(", ")}); run \`prstate install\``);
  }
  const branch = opts.branch ?? (await currentBranch(repoDir));
  await runGit(repoDir, ["check-ref-format", "--branch", branch]).catch(() => {
    throw new GitError(`not a valid branch name: ${JSON.stringify(branch)}`);
  });
  if (!(await isTrackedClean(repoDir))) {
    throw new GitError(`refusing to push from ${repoDir}: tracked files have uncommitted changes (commit or discard them first)`);
  }
  await revParse(repoDir, "HEAD");

  const target = `${remote}/${branch}`;
  let merges = 0;
  let conflictsResolved = 0;
  let last: { rejected: PushRejection; stderr: string } | undefined;
  for (let tries = 1; tries <= maxTries; tries++) {
    const result = await push(repoDir, remote, `HEAD:refs/heads/${branch}`);
    if (result.ok) {
      log(result.upToDate ? `${target} already holds HEAD` : `pushed to ${target} (try ${tries}, ${merges} merge(s))`);
      return { pushed: !result.upToDate, tries, merges, conflictsResolved, upToDate: result.upToDate };
    }
    last = result;
    if (result.rejected === "other") throw new PushError(`push to ${target} refused: ${result.stderr}`);
    log(`push to ${target} rejected (${result.rejected}), try ${tries}/${maxTries}`);
    if (tries === maxTries) break;
    await sleep(backoffDelay(tries, opts.baseDelayMs ?? DEFAULTS.baseDelayMs, opts.maxDelayMs ?? DEFAULTS.maxDelayMs, random));
    const merged = await integrateRemote(repoDir, remote, branch, writer, log);
    if (merged) {
      merges++;
      conflictsResolved += merged.conflictsResolved;
    }
  }
  throw new PushError(`push to ${target} still rejected after ${maxTries} tries (last: ${last?.rejected}: ${last?.stderr ?? "?"})`);
}

/**
 * Fetches the remote head and brings it into HEAD. Returns the merge's summary, or null when
 * no merge commit was needed (the remote did not move, or HEAD was already contained in it).
 */
async function integrateRemote(
  repoDir: string,
  remote: string,
  branch: string,
  writer: string,
  log: (line: string) => void,
): Promise<{ conflictsResolved: number } | null> {
  const theirs = await fetch(repoDir, remote, branch);
  const head = await revParse(repoDir, "HEAD");
  if (await isAncestor(repoDir, theirs, head)) return null; // only a busy ref lock: push again
  if (await isAncestor(repoDir, head, theirs)) {
    // Everything we had is already on the remote (an earlier push landed after all).
    await fastForwardTo(repoDir, theirs);
    return null;
  }
  const base = await ensureMergeBase(repoDir, remote, branch, head, theirs, log);
  // nodegit (~0.2 s to load) only when a merge is really needed: most pushes land at once,
  // and commands that import this module for commitStaged never pay for it.
  const { treeMerge } = await import("./tree-merge.js");
  const merged = await treeMerge({ repoDir, ours: head, theirs, base });
  const commit = await commitTree(repoDir, merged.tree, [head, theirs], mergeCommitMessage(remote, branch, writer));
  await fastForwardTo(repoDir, commit);
  log(
    `merged ${remote}/${branch} ${theirs.slice(0, 12)} into ${head.slice(0, 12)}: ${merged.pathsMerged.length} path(s) merged, ` +
      `${merged.conflictsResolved} conflict(s) resolved, ${merged.attemptsCleared.length} obsolete attempt(s) removed`,
  );
  return { conflictsResolved: merged.conflictsResolved };
}

/**
 * The merge base of HEAD and the remote head. A shallow clone whose history stops before the
 * base is deepened step by step, then unshallowed; histories that still share nothing are an
 * error, never an `--allow-unrelated-histories` merge.
 */
async function ensureMergeBase(
  repoDir: string,
  remote: string,
  branch: string,
  head: string,
  theirs: string,
  log: (line: string) => void,
): Promise<string> {
  let base = await mergeBase(repoDir, head, theirs);
  for (const step of [...DEEPEN_STEPS, "unshallow" as const]) {
    if (base !== null || !(await isShallow(repoDir))) break;
    log(`merge base of HEAD and ${remote}/${branch} is beyond the shallow history: deepening (${step})`);
    await deepen(repoDir, remote, branch, step);
    base = await mergeBase(repoDir, head, theirs);
  }
  if (base === null) throw new GitError(`HEAD and ${remote}/${branch} share no history: refusing to merge unrelated histories`);
  return base;
}
