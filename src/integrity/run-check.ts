// `prstate check`: the integrity checks over the whole data repo (scope "full"), optionally
// against GitHub (open PRs; key fields with --paranoid), and with --fix the state-machine
// moves committed with trailers. The per-cycle check inside sync uses the same pure checks
// over a smaller scope.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Config } from "../config/config.js";
import { AuthError, DataError, errorMessage, GitError, GitHubError } from "../errors.js";
import type { GitHub, PullSummary } from "../github/github.js";
import { buildCommitMessage } from "../git/commit-message.js";
import { commitStaged, isTrackedClean, stagePaths } from "../git/git-cli.js";
import { CHECKS_FILE, LIST_FILES, WATERMARK_FILE, type ListName } from "../layout.js";
import type { ListFile } from "../lists/list-file.js";
import { LIST_NAMES, readList } from "../store/list-store.js";
import { readChecks } from "../store/checks-file.js";
import { scanRepo } from "../store/repo-scan.js";
import { readWatermark } from "../store/watermark-file.js";
import { applyFixPlan } from "../sync/apply-changes.js";
import { paranoidFindings, runChecks, type Finding } from "./checks.js";
import { planFixes } from "./fix-plan.js";

export interface CheckOptions {
  repoDir: string;
  config: Config;
  github?: GitHub;
  paranoid?: boolean;
  fix?: boolean;
  writer: string;
  now?: Date;
}

export interface CheckReport {
  scanned: number;
  /** Whether the checks against GitHub ran (a listing error is reported, not fatal). */
  github: boolean;
  githubError?: string;
  paranoid: boolean;
  findings: Finding[];
  byKind: Record<string, number>;
  fixed?: { prs: number; commit: string | null; unfixed: Finding[] };
}

export async function runCheck(opts: CheckOptions): Promise<CheckReport> {
  const now = opts.now ?? new Date();
  // The fix commit stages only the paths it touched, but those include the lists: a person's
  // uncommitted edit of one would be committed under prstate's trailers (or lost). Refuse first.
  if (opts.fix && !(await isTrackedClean(opts.repoDir))) {
    throw new GitError(`${opts.repoDir} has uncommitted changes to tracked files; commit or discard them before 'check --fix'`);
  }
  const scan = await scanRepo(opts.repoDir);
  const lists: Partial<Record<ListName, ListFile>> = {};
  for (const name of LIST_NAMES) lists[name] = await readList(opts.repoDir, name);
  let open: PullSummary[] | undefined;
  let githubError: string | undefined;
  if (opts.github) {
    try {
      open = await opts.github.listOpenPulls();
    } catch (err) {
      // A refused token is systemic (exit 8), not a partial check; other listing errors are reported.
      if (!(err instanceof GitHubError) || err instanceof AuthError) throw err;
      githubError = `${err.name}: ${errorMessage(err)}`;
    }
  }
  const findings = runChecks({ facts: scan.prs, ...(open ? { open } : {}), unexpected: scan.unexpected, now, cfg: opts.config, scope: "full", lists });
  // A broken watermark or checks file stops every sync (DataError): the fix removes it, which
  // costs one poll from the first page and one early paranoid check, and loses no record.
  for (const [path, read] of [[WATERMARK_FILE, readWatermark], [CHECKS_FILE, readChecks]] as const) {
    try {
      await read(opts.repoDir);
    } catch (err) {
      if (!(err instanceof DataError)) throw err;
      findings.push({ kind: "broken-state-file", detail: errorMessage(err), paths: [path] });
    }
  }
  // Kept verbatim by every list edit; never guessed at, so never fixed automatically.
  for (const l of scan.invalidListLines) findings.push({ kind: "invalid-list-line", detail: `${LIST_FILES[l.list]}: ${JSON.stringify(l.line).slice(0, 80)}`, list: l.list });
  const paranoid = opts.paranoid === true && open !== undefined;
  if (paranoid) findings.push(...paranoidFindings(scan.prs, open!));
  const byKind: Record<string, number> = {};
  for (const f of findings) byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
  const report: CheckReport = { scanned: scan.prs.size, github: open !== undefined, paranoid, findings, byKind };
  if (githubError) report.githubError = githubError;

  if (opts.fix && findings.length > 0) {
    const plan = planFixes(findings, scan.prs, { cfg: opts.config, now, writer: opts.writer });
    const brokenState = findings.filter((f) => f.kind === "broken-state-file").flatMap((f) => f.paths ?? []);
    plan.unfixed = plan.unfixed.filter((f) => f.kind !== "broken-state-file");
    const touched = [...(await applyFixPlan(opts.repoDir, plan)), ...brokenState];
    for (const path of brokenState) await rm(join(opts.repoDir, path), { force: true });
    let commit: string | null = null;
    if (touched.length > 0) {
      await stagePaths(opts.repoDir, touched);
      const kinds = Object.entries(byKind).map(([k, n]) => `${k} ${n}`).join(", ");
      const transitions = plan.prs.map((p) => p.transition);
      // Fixes that move no PR (blank runs in a list, strays under state/) still need a subject.
      const subject = transitions.length === 0 ? `prstate: integrity fixes (${kinds})` : undefined;
      commit = await commitStaged(opts.repoDir, buildCommitMessage(transitions, { ...(subject ? { subject } : {}), body: `Integrity fixes by ${opts.writer}: ${kinds}` }));
    }
    report.fixed = { prs: plan.prs.length, commit, unfixed: plan.unfixed };
  }
  return report;
}

export function formatCheckReport(r: CheckReport): string {
  const lines = [`checked ${r.scanned} PR(s)${r.github ? " against GitHub" : " (offline: no GitHub checks)"}${r.paranoid ? ", paranoid" : ""}: ${r.findings.length} finding(s)`];
  if (r.githubError) lines.push(`GitHub listing failed: ${r.githubError}`);
  for (const [kind, n] of Object.entries(r.byKind)) {
    const prs = r.findings.filter((f) => f.kind === kind && f.pr !== undefined).map((f) => `#${f.pr}`);
    lines.push(`  ${kind}: ${n}${prs.length > 0 ? ` (${prs.slice(0, 20).join(" ")}${prs.length > 20 ? " ..." : ""})` : ""}`);
  }
  if (r.fixed) {
    lines.push(`fixed ${r.fixed.prs} PR(s); commit ${r.fixed.commit ?? "none"}; ${r.fixed.unfixed.length} finding(s) need a person`);
    if (r.fixed.commit) lines.push("run 'prstate push' to publish the fixes");
  }
  return lines.join("\n");
}
