// How a cycle report is shown: a short text for logs, and in GitHub Actions a Markdown job
// summary plus `::warning::` annotations for PRs that failed or became stubborn.
import { appendFile } from "node:fs/promises";
import type { CycleReport } from "./run-cycle.js";

function countBy<T>(items: readonly T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[key(i)] = (out[key(i)] ?? 0) + 1;
  return out;
}

const kv = (o: Record<string, number>) =>
  Object.entries(o)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ") || "none";

export function formatCycleReport(r: CycleReport): string {
  const lines: string[] = [];
  if (r.dryRun) {
    lines.push(`dry run: ${r.plan.length} download(s) planned, ${r.deferred.length} PR(s) in backoff`);
    for (const p of r.plan) lines.push(`  #${p.pr}  ${p.class.padEnd(9)} ${p.query.padEnd(5)} ${p.reason}`);
    lines.push(`findings: ${kv(r.findings)}`);
    return lines.join("\n");
  }
  lines.push(`downloaded ${r.downloaded.length} PR(s), ${r.failed.length} failed${r.becameStubborn.length > 0 ? `, ${r.becameStubborn.length} became stubborn` : ""}`);
  lines.push(`poll: ${r.poll.listed} listed since ${r.poll.since ?? "(no watermark)"}, ${r.poll.hits} hit(s)${r.poll.error ? `, error: ${r.poll.error}` : ""}`);
  lines.push(`queue: ${r.queue.events} event(s) -> ${r.queue.coalescedInto} work item(s), ${r.queue.waiting} waiting${r.queue.drainedFromSpool ? `, ${r.queue.drainedFromSpool} drained from the spool` : ""}`);
  lines.push(`findings: ${kv(r.findings)}${r.paranoid ? " (paranoid check ran)" : ""}`);
  if (r.failed.length > 0) lines.push(`failures by kind: ${kv(countBy(r.failed, (f) => f.errorClass))}`);
  if (r.stoppedEarly) lines.push(`stopped early: ${r.stoppedEarly}`);
  lines.push(`watermark: ${r.watermark.from ?? "-"} -> ${r.watermark.to ?? r.watermark.from ?? "-"}`);
  lines.push(`commit: ${r.commit ?? "nothing to commit"}`);
  if (r.push) lines.push(`push: ${r.push.upToDate ? "up to date" : `${r.push.tries} tr${r.push.tries === 1 ? "y" : "ies"}, ${r.push.merges} merge(s), ${r.push.conflictsResolved} conflict(s) resolved`}`);
  return lines.join("\n");
}

/**
 * In GitHub Actions (GITHUB_ACTIONS set): `::warning::` annotations, and the job summary when
 * GITHUB_STEP_SUMMARY is set. Elsewhere nothing. Annotations go to `annotations` (default
 * stdout); with `--json` the caller passes stderr, so stdout stays one JSON document (the
 * runner reads workflow commands from both streams).
 */
export async function writeActionsSummary(
  r: CycleReport,
  env: NodeJS.ProcessEnv = process.env,
  annotations: { write(text: string): unknown } = process.stdout,
): Promise<void> {
  if (!env.GITHUB_ACTIONS) return;
  for (const f of r.failed) {
    const what = f.becameStubborn ? "became stubborn" : `failed (${f.attempts} attempt(s))`;
    annotations.write(`::warning title=prstate PR #${f.pr}::PR #${f.pr} ${what}: ${f.errorClass}\n`);
  }
  if (!env.GITHUB_STEP_SUMMARY) return;
  const md = [
    `### prstate sync (${r.writer})`,
    "",
    `| downloaded | failed | became stubborn | poll hits | queued events → items | pushed |`,
    `|---|---|---|---|---|---|`,
    `| ${r.downloaded.length} | ${r.failed.length} | ${r.becameStubborn.length} | ${r.poll.hits} | ${r.queue.events} → ${r.queue.coalescedInto} | ${r.push ? (r.push.upToDate ? "up to date" : `${r.push.tries} tries, ${r.push.merges} merges`) : "no"} |`,
    "",
    r.failed.length > 0 ? `Failures: ${r.failed.map((f) => `#${f.pr} ${f.errorClass}`).join(", ")}` : "No failures.",
    r.stoppedEarly ? `\nStopped early: ${r.stoppedEarly}.` : "",
    "",
  ].join("\n");
  await appendFile(env.GITHUB_STEP_SUMMARY, md);
}
