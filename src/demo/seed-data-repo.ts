// The demo's starting point: a bare "remote" data repo seeded from the real fixtures the way
// a long-running repo looks: some PRs fresh, one outdated, one broken by an older tool, some
// listed as missing or for backfill, one stubborn, and comment lines in the lists.
import { cp, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runGit } from "../git/git-cli.js";
import { install } from "../install/install.js";
import type { GitHubSimulator } from "../simulator/github-simulator.js";

export const FIXTURES_DIR = fileURLToPath(new URL("../../../fixtures/", import.meta.url));

export const DEMO_GIT_ENV = {
  GIT_AUTHOR_NAME: "prstate demo",
  GIT_AUTHOR_EMAIL: "demo@prstate.invalid",
  GIT_COMMITTER_NAME: "prstate demo",
  GIT_COMMITTER_EMAIL: "demo@prstate.invalid",
};

export interface SeededRepo {
  bare: string;
  /** PRs the seed lists as missing / for backfill (their records arrive during the demo). */
  missing: number[];
  backfill: number[];
  /** An open PR whose full query always fails (GitHub's 502 on huge PRs). */
  huge: number;
}

async function write(dir: string, path: string, text: string): Promise<void> {
  await mkdir(dirname(join(dir, path)), { recursive: true });
  await writeFile(join(dir, path), text);
}

export async function seedDataRepo(root: string, sim: GitHubSimulator): Promise<SeededRepo> {
  const bare = join(root, "remote.git");
  const seed = join(root, "seed");
  await mkdir(bare, { recursive: true });
  await mkdir(seed, { recursive: true });
  await runGit(bare, ["init", "--quiet", "--bare", "--initial-branch=main"]);
  await runGit(seed, ["init", "--quiet", "--initial-branch=main"]);

  // Fresh records, copied as the old tooling stored them.
  for (const n of ["20000", "23000", "1388", "10014", "4197-basic"]) {
    await cp(join(FIXTURES_DIR, "data", n), join(seed, "data", n), { recursive: true });
  }
  // Outdated: the stored 19055 is older than what GitHub now serves (a later, force-pushed version).
  await cp(join(FIXTURES_DIR, "data", "19055"), join(seed, "data", "19055"), { recursive: true });
  const newer = JSON.parse(await readFile(join(FIXTURES_DIR, "versions", "19055", "pr_info.4d3543b9.json"), "utf8"));
  const current = sim.get(19055);
  sim.replaceDocs(19055, { prInfo: newer, ...(current?.reactions ? { reactions: current.reactions } : {}) } as Parameters<GitHubSimulator["replaceDocs"]>[1]);
  // Broken by an older tool: a truncated pr_info.json.
  const full10024 = await readFile(join(FIXTURES_DIR, "data", "10024", "pr_info.json"), "utf8");
  await write(seed, "data/10024/pr_info.json", full10024.slice(0, 700));

  const open = sim.prs().filter((p) => p.state === "open" && p.number > 23100);
  const closed = sim.prs().filter((p) => p.state === "closed" && p.number > 23100);
  const missing = [23100, ...open.slice(0, 8).map((p) => p.number)];
  const huge = open[8]?.number ?? missing[missing.length - 1]!;
  missing.push(huge);
  const backfill = [15000, ...closed.slice(0, 6).map((p) => p.number)];

  await write(seed, "missing_prs.txt", `\n${missing.join("\n")}\n`);
  await write(seed, "closed_prs_to_backfill.txt", `-- closed PRs, not downloaded yet\n${backfill.join("\n")}\n${backfill[1] ?? 15000}\n`);
  await write(seed, "stubborn_prs.txt", "-- PRs whose full query times out: basic data only\n4197\n\n\n");
  await write(seed, "redownload.txt", "20000\n");
  await write(
    seed,
    "prstate.yaml",
    [
      `repository: ${sim.owner}/${sim.repo}`,
      "thresholds:",
      "  backoffBaseSeconds: 1   # the demo's cycles follow each other within seconds",
      "  backoffCapSeconds: 2",
      "  debounceSeconds: 0",
      "  allowedDelayMinutes: 0",
      "budget:",
      "  maxDownloads: 40",
      "",
    ].join("\n"),
  );
  // Polling starts 30 days back: older PRs are known through the lists only.
  const mark = new Date(sim.clock.now() - 30 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, "Z");
  await write(seed, "state/watermark.json", `${JSON.stringify({ updatedAt: mark, writer: "seed" }, null, 2)}\n`);

  await install(seed);
  await runGit(seed, ["add", "--all"]);
  await runGit(seed, ["commit", "--quiet", "-m", "seed the data repo from the recorded fixtures"], { env: DEMO_GIT_ENV });
  await runGit(seed, ["push", "--quiet", bare, "main"]);
  return { bare, missing, backfill, huge };
}

/** A clone of the demo's remote with the driver installed, as a CI checkout would do. */
export async function cloneWriter(root: string, bare: string, name: string): Promise<string> {
  const dir = join(root, name);
  await runGit(root, ["clone", "--quiet", bare, dir]);
  await runGit(dir, ["config", "user.name", `prstate ${name}`]);
  await runGit(dir, ["config", "user.email", `${name}@prstate.invalid`]);
  await install(dir);
  return dir;
}
