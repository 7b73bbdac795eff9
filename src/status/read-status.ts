// `prstate status`: what the data repo says, summarised for a person (or --json for a
// dashboard): PRs per state, queue depth, stubborn PRs, failing PRs with their attempt
// counts and backoff, and when each periodic job last ran. Reads the files only; never asks GitHub.
import type { Config } from "../config/config.js";
import { readChecks } from "../store/checks-file.js";
import { scanRepo } from "../store/repo-scan.js";
import { readWatermark } from "../store/watermark-file.js";
import { nextDueAt } from "../state/backoff.js";
import { derivePrState, stateLabel } from "../state/pr-state.js";

export interface Status {
  prs: number;
  byState: Record<string, number>;
  queueDepth: number;
  queuedPrs: number;
  stubborn: number[];
  /** `dueAt`: when its backoff lets the PR be tried again (absent: now). */
  failing: { pr: number; attempts: number; lastError: string; lastAt: string; dueAt?: string }[];
  /** The polling watermark; null before the first poll. Always present, so dashboards see a fixed shape. */
  watermark: string | null;
  checks: Record<string, string>;
}

export async function readStatus(repo: string, cfg: Config, now: number = Date.now()): Promise<Status> {
  const scan = await scanRepo(repo);
  const byState: Record<string, number> = {};
  const stubborn: number[] = [];
  const failing: Status["failing"] = [];
  let queueDepth = 0;
  let queuedPrs = 0;
  for (const f of [...scan.prs.values()].sort((a, b) => a.pr - b.pr)) {
    const s = derivePrState(f, cfg);
    // "fresh (basic)" apart from "fresh": a stubborn PR with basic data is fresh, on the basic regime.
    const label = stateLabel(s).replace(/\(\d+\)$/, "");
    byState[label] = (byState[label] ?? 0) + 1;
    if (f.lists.has("stubborn")) stubborn.push(f.pr);
    if (s.name === "failing") {
      // The latest attempt by time (legacy comments, timeless, sort first).
      const last = [...f.attempts].sort((a, b) => Date.parse(a.at) - Date.parse(b.at))[f.attempts.length - 1]!;
      const entry: Status["failing"][number] = { pr: f.pr, attempts: f.attempts.length, lastError: last.errorClass, lastAt: last.at };
      const due = nextDueAt(f.attempts, cfg, f.pr);
      if (due && due.getTime() > now) entry.dueAt = due.toISOString();
      failing.push(entry);
    }
    queueDepth += f.queued.length;
    if (f.queued.length > 0) queuedPrs++;
  }
  const wm = await readWatermark(repo);
  return { prs: scan.prs.size, byState, queueDepth, queuedPrs, stubborn, failing, watermark: wm?.updatedAt ?? null, checks: await readChecks(repo) };
}

export function formatStatus(s: Status): string {
  const lines = [`${s.prs} PR(s): ${Object.entries(s.byState).map(([k, n]) => `${k} ${n}`).join(", ") || "none"}`];
  lines.push(`queue: ${s.queueDepth} event(s) for ${s.queuedPrs} PR(s)`);
  lines.push(`stubborn: ${s.stubborn.length}${s.stubborn.length > 0 ? ` (${s.stubborn.slice(0, 30).map((n) => `#${n}`).join(" ")}${s.stubborn.length > 30 ? " ..." : ""})` : ""}`);
  lines.push(`failing: ${s.failing.length}`);
  for (const f of s.failing.slice(0, 30)) {
    const last =
      f.lastError === "legacy"
        ? "counted from older tooling's list comments"
        : f.lastError === "unreadable"
          ? "counted from an attempt file that does not parse"
          : `last ${f.lastError} at ${f.lastAt}`;
    lines.push(`  #${f.pr}: ${f.attempts} attempt(s), ${last}${f.dueAt ? `; backing off until ${f.dueAt}` : ""}`);
  }
  if (s.failing.length > 30) lines.push(`  ... ${s.failing.length - 30} more`);
  lines.push(`watermark: ${s.watermark ?? "none yet"}`);
  const jobs = Object.entries(s.checks);
  lines.push(`periodic jobs: ${jobs.length > 0 ? jobs.map(([k, t]) => `${k} ${t}`).join(", ") : "none run yet"}`);
  return lines.join("\n");
}
