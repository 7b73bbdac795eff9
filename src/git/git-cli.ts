// The git CLI edge: every call runs the real `git` binary through execFile (no shell, so no
// quoting bugs and no injection through paths or refs). Remote URLs may carry tokens
// (`https://x-access-token:ghs_…@github.com/…`), so everything git prints is passed through
// `redact()` before anyone sees it, and failures become a GitError with one clear line.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { GitError, redact } from "../errors.js";
import { pathExists } from "../store/atomic-write.js";

export interface GitOutput {
  /** Redacted standard output. */
  stdout: string;
  /** Redacted standard error. */
  stderr: string;
  /** Exit code (0 on success). */
  code: number;
}

export interface RunGitOptions {
  /** Written to git's standard input. */
  input?: string;
  /** Extra environment variables for this call. */
  env?: NodeJS.ProcessEnv;
  /** Exit codes that are answers, not failures (e.g. 1 for `merge-base --is-ancestor`). */
  okCodes?: number[];
}

const MAX_BUFFER = 256 * 1024 * 1024;

// English messages (push rejections are recognised by their text), never a credential
// prompt (a CI job would hang), and no optional index locks taken by read-only commands
// that would make a concurrent writer's `git add` fail with "index.lock exists".
function gitEnv(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...process.env, LC_ALL: "C", LANGUAGE: "C", GIT_TERMINAL_PROMPT: "0", GIT_OPTIONAL_LOCKS: "0", ...extra };
}

/** The line of git's stderr that says what went wrong (`fatal:`/`error:` first), redacted. */
export function gitFailureLine(stderr: string, stdout = ""): string {
  const lines = `${stderr}\n${stdout}`
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("hint:"));
  const line = lines.find((l) => /^(fatal|error):/i.test(l)) ?? lines[0] ?? "no output";
  return redact(line).slice(0, 300);
}

/**
 * Runs `git <args>` in `repoDir`. A non-zero exit (other than `okCodes`) throws a GitError
 * whose message is `git <subcommand> failed: <first error line>`.
 */
export function runGit(repoDir: string, args: string[], opts: RunGitOptions = {}): Promise<GitOutput> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      "git",
      args,
      { cwd: repoDir, env: gitEnv(opts.env), maxBuffer: MAX_BUFFER, encoding: "utf8" },
      (err, stdout, stderr) => {
        const out = { stdout: redact(stdout ?? ""), stderr: redact(stderr ?? "") };
        if (!err) return resolve({ ...out, code: 0 });
        const code = typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : -1;
        if (opts.okCodes?.includes(code)) return resolve({ ...out, code });
        const what = code === -1 ? errorCodeText(err) : gitFailureLine(out.stderr, out.stdout);
        reject(new GitError(`git ${args[0] ?? ""} failed in ${repoDir}: ${what}`, { cause: err }));
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

function errorCodeText(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "the git binary was not found (or the folder does not exist)";
  return redact(err.message).split("\n", 1)[0]!;
}

/** `git rev-parse --verify <rev>^{commit}`: the full sha, or GitError when it does not exist. */
export async function revParse(repoDir: string, rev: string): Promise<string> {
  const out = await tryRevParse(repoDir, rev);
  if (out === null) throw new GitError(`no such commit in ${repoDir}: ${rev}`);
  return out;
}

/** Like revParse, but null when `rev` does not name a commit. */
export async function tryRevParse(repoDir: string, rev: string): Promise<string | null> {
  const out = await runGit(repoDir, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${rev}^{commit}`], { okCodes: [1, 128] });
  return out.code === 0 ? out.stdout.trim() : null;
}

/** The checked-out branch's short name; GitError on a detached HEAD. */
export async function currentBranch(repoDir: string): Promise<string> {
  const out = await runGit(repoDir, ["symbolic-ref", "--quiet", "--short", "HEAD"], { okCodes: [1] });
  const name = out.stdout.trim();
  if (out.code !== 0 || name === "") throw new GitError(`HEAD is detached in ${repoDir}: name the branch to push (--branch)`);
  return name;
}

/** `git status --porcelain` lines (tracked and untracked changes); empty = clean tree. */
export async function statusPorcelain(repoDir: string, opts: { untracked?: boolean } = {}): Promise<string[]> {
  const out = await runGit(repoDir, ["status", "--porcelain=v1", `--untracked-files=${opts.untracked === false ? "no" : "all"}`]);
  return out.stdout.split("\n").filter((l) => l !== "");
}

/** Whether tracked files match HEAD (nothing staged, nothing modified). Untracked files are ignored. */
export async function isTrackedClean(repoDir: string): Promise<boolean> {
  return (await statusPorcelain(repoDir, { untracked: false })).length === 0;
}

/** `git rev-parse --is-shallow-repository`. */
export async function isShallow(repoDir: string): Promise<boolean> {
  const out = await runGit(repoDir, ["rev-parse", "--is-shallow-repository"]);
  return out.stdout.trim() === "true";
}

/** The remote-tracking ref a fetch of `remote`/`branch` updates. */
export function trackingRef(remote: string, branch: string): string {
  return `refs/remotes/${remote}/${branch}`;
}

export interface FetchOptions {
  /** `--depth=N`: fetch only the newest N commits of the branch. */
  depth?: number;
  /** `--deepen=N`: extend every shallow boundary by N commits. */
  deepen?: number;
  /** `--unshallow`: fetch the whole history. */
  unshallow?: boolean;
}

/**
 * Fetches `branch` of `remote` into `refs/remotes/<remote>/<branch>` (forced update of the
 * tracking ref only: never of a local branch) and returns the fetched head's sha.
 */
export async function fetch(repoDir: string, remote: string, branch: string, opts: FetchOptions = {}): Promise<string> {
  const args = ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head"];
  if (opts.depth !== undefined) args.push(`--depth=${positive(opts.depth, "depth")}`);
  if (opts.deepen !== undefined) args.push(`--deepen=${positive(opts.deepen, "deepen")}`);
  if (opts.unshallow) args.push("--unshallow");
  args.push("--end-of-options", remote, `+refs/heads/${branch}:${trackingRef(remote, branch)}`);
  await runGit(repoDir, args);
  return revParse(repoDir, trackingRef(remote, branch));
}

function positive(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 1) throw new GitError(`fetch ${what} must be a positive integer, got ${n}`);
  return n;
}

/**
 * Deepens a shallow clone: `--deepen=<by>` or, with "unshallow", the whole history. Used when
 * the merge base of a push's two sides is beyond the shallow boundary; unrelated histories are
 * never merged (`--allow-unrelated-histories` is not an option here).
 */
export async function deepen(repoDir: string, remote: string, branch: string, by: number | "unshallow"): Promise<void> {
  await fetch(repoDir, remote, branch, by === "unshallow" ? { unshallow: true } : { deepen: by });
}

/** The best common ancestor of two commits, or null when none is reachable (shallow or unrelated). */
export async function mergeBase(repoDir: string, a: string, b: string): Promise<string | null> {
  const out = await runGit(repoDir, ["merge-base", "--end-of-options", a, b], { okCodes: [1] });
  return out.code === 0 ? out.stdout.trim().split("\n")[0]! : null;
}

/** Whether `ancestor` is reachable from `descendant` (a commit is its own ancestor). */
export async function isAncestor(repoDir: string, ancestor: string, descendant: string): Promise<boolean> {
  const out = await runGit(repoDir, ["merge-base", "--is-ancestor", "--end-of-options", ancestor, descendant], { okCodes: [1] });
  return out.code === 0;
}

export type PushRejection = "non-fast-forward" | "lock" | "other";
export type PushResult = { ok: true; upToDate: boolean } | { ok: false; rejected: PushRejection; stderr: string };

/**
 * Classifies a failed push from git's output. "non-fast-forward" (the remote moved: fetch and
 * merge) and "lock" (another push is landing on the remote right now: retry) are retryable;
 * "other" (hooks, permissions, network) is not.
 */
export function classifyPushFailure(output: string): PushRejection {
  const text = output.toLowerCase();
  if (/cannot lock ref|failed to update ref|unable to create '[^']*\.lock'|incorrect old value provided/.test(text)) return "lock";
  if (/non-fast-forward|fetch first|\[rejected\]/.test(text)) return "non-fast-forward";
  return "other";
}

/**
 * `git push --porcelain <remote> <refspec>` (refspec e.g. `HEAD:refs/heads/main`). Never
 * forced: a refspec starting with `+` is refused, so no code path can drop a remote commit.
 */
export async function push(repoDir: string, remote: string, refspec: string): Promise<PushResult> {
  if (refspec.startsWith("+")) throw new GitError(`refusing a forced push refspec: ${refspec}`);
  const out = await runGit(repoDir, ["push", "--porcelain", "--no-verify", "--end-of-options", remote, refspec], { okCodes: [1, 128] });
  const lines = out.stdout.split("\n");
  const refLine = lines.find((l) => /^[ =+*!-]\t/.test(l));
  if (out.code === 0 && refLine && !refLine.startsWith("!")) return { ok: true, upToDate: refLine.startsWith("=") };
  const both = `${out.stdout}\n${out.stderr}`;
  if (out.code === 0 && !refLine) return { ok: true, upToDate: /up.to.date/i.test(both) };
  // Porcelain puts the reason on the ref line ("!\tHEAD:refs/heads/main\t[rejected] (fetch first)"),
  // the remote's own words ("cannot lock ref") on stderr.
  const rejected = classifyPushFailure(both);
  const reason = refLine?.split("\t").slice(2).join(" ").trim();
  return { ok: false, rejected, stderr: reason ? `${reason}; ${gitFailureLine(out.stderr)}` : gitFailureLine(out.stderr, out.stdout) };
}

export const FALLBACK_IDENTITY = { name: "prstate", email: "prstate@users.noreply.github.com" };

/**
 * Environment for creating commits: git's configured identity when there is one, else
 * prstate's own (a fresh CI checkout often has no user.name/user.email, and a sync must not
 * fail over that).
 */
export async function commitEnv(repoDir: string): Promise<NodeJS.ProcessEnv> {
  const ident = await runGit(repoDir, ["var", "GIT_COMMITTER_IDENT"], { okCodes: [128, 1] });
  if (ident.code === 0) return {};
  const { name, email } = FALLBACK_IDENTITY;
  return { GIT_AUTHOR_NAME: name, GIT_AUTHOR_EMAIL: email, GIT_COMMITTER_NAME: name, GIT_COMMITTER_EMAIL: email };
}

/** `git commit-tree`: creates a commit object from a tree and parents; returns its sha. */
export async function commitTree(repoDir: string, tree: string, parents: string[], message: string): Promise<string> {
  const args = ["commit-tree", tree];
  for (const p of parents) args.push("-p", p);
  const out = await runGit(repoDir, args, { input: message, env: await commitEnv(repoDir) });
  return out.stdout.trim();
}

/**
 * Moves the checked-out branch, index and working tree forward to `commit`, which must
 * descend from HEAD (`git merge --ff-only`: git refuses to touch local changes or overwrite
 * untracked files, so nothing in the working tree is lost).
 */
export async function fastForwardTo(repoDir: string, commit: string): Promise<void> {
  await runGit(repoDir, ["merge", "--ff-only", "--quiet", "--no-stat", "--end-of-options", commit]);
}

/** Whether anything is staged (index differs from HEAD; everything staged in a repo without commits). */
export async function hasStagedChanges(repoDir: string): Promise<boolean> {
  if ((await tryRevParse(repoDir, "HEAD")) === null) {
    const out = await runGit(repoDir, ["ls-files", "--cached", "-z"]);
    return out.stdout !== "";
  }
  const out = await runGit(repoDir, ["diff", "--cached", "--quiet", "--no-ext-diff"], { okCodes: [1] });
  return out.code === 1;
}

/**
 * Commits what is staged with `message` (kept verbatim: a `#` line or trailer is never
 * stripped). Returns the new commit's sha, or null when nothing is staged. Hooks are skipped
 * (here and in push): these are machine commits that prstate verifies itself, and a local
 * hook must not make a scheduled cycle fail or hang.
 */
export async function commitStaged(repoDir: string, message: string): Promise<string | null> {
  if (!(await hasStagedChanges(repoDir))) return null;
  await runGit(repoDir, ["commit", "--quiet", "--no-verify", "--cleanup=verbatim", "--file=-"], {
    input: message.endsWith("\n") ? message : `${message}\n`,
    env: await commitEnv(repoDir),
  });
  return revParse(repoDir, "HEAD");
}

/**
 * Stages exactly `paths` (repo-relative files or folders: additions, modifications and
 * deletions) and commits the index. Returns the commit's sha, or null when nothing changed.
 * Paths are literal (no globbing), so a PR folder name can never match more than itself.
 */
export async function commitPaths(repoDir: string, paths: string[], message: string): Promise<string | null> {
  await stagePaths(repoDir, paths);
  return commitStaged(repoDir, message);
}

/** Stages `paths` as they are on disk: present ones are added, vanished ones removed from the index. */
export async function stagePaths(repoDir: string, paths: string[]): Promise<void> {
  const present: string[] = [];
  const gone: string[] = [];
  for (const p of paths) {
    if (p === "" || p.startsWith("/") || p.split("/").includes("..")) throw new GitError(`not a repo-relative path: ${JSON.stringify(p)}`);
    (await pathExists(join(repoDir, p)) ? present : gone).push(p);
  }
  const literal = { env: { GIT_LITERAL_PATHSPECS: "1" } };
  // Batches keep the argument list far below the OS limit on big cycles.
  for (const batch of chunks(present, 500)) await runGit(repoDir, ["add", "--all", "--", ...batch], literal);
  for (const batch of chunks(gone, 500)) await runGit(repoDir, ["rm", "-r", "--cached", "--quiet", "--ignore-unmatch", "--", ...batch], literal);
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
