// Real-git helpers for tests: temp repos with a fixed branch and user, bare remotes and
// clones. No mock of git anywhere: every helper runs the real `git` binary.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile, mkdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** Environment that makes git deterministic and independent of the machine's own config. */
export const GIT_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: "prstate test",
  GIT_AUTHOR_EMAIL: "test@prstate.invalid",
  GIT_COMMITTER_NAME: "prstate test",
  GIT_COMMITTER_EMAIL: "test@prstate.invalid",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_TERMINAL_PROMPT: "0",
};

export interface GitResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs git in `cwd`; throws with stderr on a non-zero exit unless `allowFail`. */
export async function git(cwd: string, args: string[], opts: { allowFail?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<GitResult> {
  try {
    const { stdout, stderr } = await execFileAsync("git", args, { cwd, env: { ...GIT_ENV, ...opts.env }, maxBuffer: 64 * 1024 * 1024 });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    if (opts.allowFail) return { stdout: e.stdout ?? "", stderr: e.stderr ?? "", code: typeof e.code === "number" ? e.code : 1 };
    throw new Error(`git ${args.join(" ")} failed in ${cwd}: ${e.stderr ?? err}`);
  }
}

const cleanups: string[] = [];

/** A fresh temp folder, removed by `cleanupTempDirs` (call it from test.after.always). */
export async function tempDir(prefix = "prstate-test-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanups.push(dir);
  return dir;
}

export async function cleanupTempDirs(): Promise<void> {
  if (process.env.PRSTATE_KEEP_TMP) return;
  await Promise.all(cleanups.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** `git init -b main` with the fixed user set in the repo's config too (for processes without GIT_ENV). */
export async function initRepo(dir?: string): Promise<string> {
  const repo = dir ?? (await tempDir());
  await git(repo, ["init", "-q", "-b", "main"]);
  await git(repo, ["config", "user.name", "prstate test"]);
  await git(repo, ["config", "user.email", "test@prstate.invalid"]);
  await git(repo, ["config", "commit.gpgsign", "false"]);
  return repo;
}

/** A bare remote whose main branch holds `files` (path -> content) in one commit. */
export async function initBareRemote(files: Record<string, string | Buffer> = {}): Promise<string> {
  const bare = await tempDir("prstate-remote-");
  await git(bare, ["init", "-q", "--bare", "-b", "main"]);
  const seed = await initRepo();
  await writeFiles(seed, { "README.md": "data repo\n", ...files });
  await git(seed, ["add", "-A"]);
  await git(seed, ["commit", "-q", "-m", "seed"]);
  await git(seed, ["remote", "add", "origin", bare]);
  await git(seed, ["push", "-q", "origin", "main"]);
  return bare;
}

/** A clone of `remote` with the fixed user configured. */
export async function cloneRepo(remote: string): Promise<string> {
  const parent = await tempDir("prstate-clone-");
  const dir = join(parent, "clone");
  await git(parent, ["clone", "-q", remote, dir]);
  await git(dir, ["config", "user.name", "prstate test"]);
  await git(dir, ["config", "user.email", "test@prstate.invalid"]);
  await git(dir, ["config", "commit.gpgsign", "false"]);
  return dir;
}

export async function writeFiles(dir: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    const full = join(dir, path);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, content);
  }
}

export async function readText(dir: string, path: string): Promise<string> {
  return readFile(join(dir, path), "utf8");
}

/** Stages everything and commits; returns the new HEAD sha. */
export async function commitAll(dir: string, message: string): Promise<string> {
  await git(dir, ["add", "-A"]);
  await git(dir, ["commit", "-q", "--allow-empty", "-m", message]);
  return (await git(dir, ["rev-parse", "HEAD"])).stdout.trim();
}
