// Benchmark: the per-cycle integrity check costs what changed plus the open PRs, not the size
// of data/ (issue 4, DESIGN section 8). On a generated data repo of 30,000 real-shaped
// records (reduced copies of fixtures/data/20000, written with plain fs, no git), it times
//   - the full check (`prstate check`): scanRepo over all of data/ + runChecks scope "full";
//   - the per-cycle check after 50 changed records: scanRepo `only` those 50, the open PRs and
//     the list entries (what sync's cycle scope holds) + runChecks scope "cycle";
// then doubles data/ with 30,000 more closed records and times both again. Both checks see
// one broken record among the changed ones and must report the same findings. The ratios are
// measured in this run; the page cache is warm for both (the repo was just written), as on a
// CI runner right after checkout. About 2-3 minutes, most of it writing and scanning files.
//
//   node dist/bench/integrity-check.js [records] [open]
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { DEFAULT_CONFIG } from "../src/config/config.js";
import type { PullSummary } from "../src/github/github.js";
import { runChecks, type Finding } from "../src/integrity/checks.js";
import type { ListName } from "../src/layout.js";
import type { ListFile } from "../src/lists/list-file.js";
import { LIST_NAMES, readList } from "../src/store/list-store.js";
import { scanRepo } from "../src/store/repo-scan.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const TEMPLATE_PR = 20000;

export interface IntegrityCheckBench {
  records: number;
  open: number;
  changed: number;
  fullMs: number;
  cycleMs: number;
  /** full / per-cycle, at `records`. */
  ratio: number;
  doubled: { records: number; fullMs: number; cycleMs: number; fullGrowth: number; cycleGrowth: number };
  recordBytes: number;
  generateMs: number;
  summary: string;
}

export interface IntegrityCheckBenchOptions {
  records?: number;
  open?: number;
  changed?: number;
  fullRuns?: number;
  cycleRuns?: number;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Cuts every `nodes` list to one entry and every long string to 80 characters: small, same shape. */
function reduce(value: unknown): unknown {
  if (typeof value === "string") return value.length > 80 ? value.slice(0, 80) : value;
  if (Array.isArray(value)) return value.map(reduce);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = k === "nodes" && Array.isArray(v) ? v.slice(0, 1).map(reduce) : reduce(v);
    return out;
  }
  return value;
}

interface Templates {
  info: string;
  reactions: string;
  sha: string;
  labels: string[];
  baseRef: string;
}

/**
 * The fixture reduced, as text with placeholders, so that 60,000 records cost one string
 * replace each. The head SHA appears in the commit list too (the CI summary reads the head
 * commit's checks), so every occurrence becomes the record's own SHA.
 */
function templates(): Templates {
  const doc = JSON.parse(readFileSync(join(ROOT, `fixtures/data/${TEMPLATE_PR}/pr_info.json`), "utf8"));
  const pull = doc.data.repository.pullRequest;
  const sha: string = pull.headRefOid;
  const labels: string[] = pull.labels.nodes.map((l: { name: string }) => l.name);
  const reduced = reduce(doc) as typeof doc;
  const p = reduced.data.repository.pullRequest;
  Object.assign(p, { number: "@NUMBER@", id: "@ID@", title: "@TITLE@", updatedAt: "@UPDATED@", state: "@STATE@", closed: "@CLOSED@", url: `https://github.com/leanprover-community/mathlib4/pull/@N@` });
  const info = JSON.stringify(reduced, null, 2).split(sha).join("@SHA@");
  const reactions = JSON.parse(readFileSync(join(ROOT, `fixtures/data/${TEMPLATE_PR}/pr_reactions.json`), "utf8"));
  reactions.data.repository.pullRequest.number = "@NUMBER@";
  return { info: `${info}\n`, reactions: `${JSON.stringify(reduce(reactions), null, 2)}\n`, sha, labels, baseRef: p.baseRefName };
}

interface Pr {
  number: number;
  open: boolean;
  updatedAt: string;
  sha: string;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
const shaOf = (n: number, version: number) => (n * 2654435761 + version * 97).toString(16).padStart(8, "0").repeat(5).slice(0, 40);

function recordText(t: Templates, pr: Pr): string {
  const n = String(pr.number);
  const values: Record<string, string> = {
    '"@NUMBER@"': n,
    "@N@": n,
    "@ID@": `PR_bench${n}`,
    "@TITLE@": `feat: generated PR ${n}`,
    "@UPDATED@": pr.updatedAt,
    "@STATE@": pr.open ? "OPEN" : "CLOSED",
    '"@CLOSED@"': pr.open ? "false" : "true",
    "@SHA@": pr.sha,
  };
  return t.info.replace(/"@NUMBER@"|@N@|@ID@|@TITLE@|@UPDATED@|@STATE@|"@CLOSED@"|@SHA@/g, (m) => values[m]!);
}

function writePr(dir: string, t: Templates, pr: Pr, fetchedAt: string): number {
  const folder = join(dir, "data", String(pr.number));
  mkdirSync(folder, { recursive: true });
  const info = recordText(t, pr);
  writeFileSync(join(folder, "pr_info.json"), info);
  writeFileSync(join(folder, "pr_reactions.json"), t.reactions.replace('"@NUMBER@"', String(pr.number)));
  writeFileSync(join(folder, "timestamp.txt"), `${fetchedAt}\n`);
  return info.length;
}

function summaryOf(t: Templates, pr: Pr): PullSummary {
  return { number: pr.number, state: "open", updatedAt: pr.updatedAt, headSha: pr.sha, draft: false, title: `feat: generated PR ${pr.number}`, labels: t.labels, baseRef: t.baseRef };
}

async function readLists(dir: string): Promise<Partial<Record<ListName, ListFile>>> {
  const lists: Partial<Record<ListName, ListFile>> = {};
  for (const name of LIST_NAMES) lists[name] = await readList(dir, name);
  return lists;
}

/** `prstate check` without GitHub's key fields: every record. */
async function fullCheck(dir: string, open: PullSummary[], now: Date): Promise<Finding[]> {
  const scan = await scanRepo(dir);
  return runChecks({ facts: scan.prs, open, unexpected: scan.unexpected, now, cfg: DEFAULT_CONFIG, scope: "full", lists: await readLists(dir) });
}

/** The check sync runs every cycle: the changed PRs, the open ones and the list entries. */
async function cycleCheck(dir: string, changed: number[], open: PullSummary[], now: Date): Promise<Finding[]> {
  const lists = await readLists(dir);
  const only = new Set([...changed, ...open.map((s) => s.number)]);
  for (const list of Object.values(lists)) for (const line of list!.lines) if (line.type === "entry") only.add(line.pr);
  const scan = await scanRepo(dir, { only });
  return runChecks({ facts: scan.prs, open, unexpected: scan.unexpected, now, cfg: DEFAULT_CONFIG, scope: "cycle", lists });
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, value };
}

const describe = (findings: Finding[]) => findings.map((f) => `${f.kind}:${f.pr ?? "-"}`).join(", ");

export async function benchIntegrityCheck(opts: IntegrityCheckBenchOptions = {}): Promise<IntegrityCheckBench> {
  const records = opts.records ?? 30_000;
  const openCount = Math.min(opts.open ?? 300, records);
  const changedCount = Math.min(opts.changed ?? 50, records);
  const fullRuns = opts.fullRuns ?? 3;
  const cycleRuns = opts.cycleRuns ?? 21;
  const dir = mkdtempSync(join(tmpdir(), "prstate-bench-integrity-"));
  const started = Date.now();
  try {
    const t = templates();
    const now = new Date();
    // Updated days ago and fetched a day later: nothing is stale, lagging or missing CI.
    const fetchedAt = iso(now.getTime() - 86_400_000);
    const prs: Pr[] = [];
    const generate = (from: number, to: number) => {
      let bytes = 0;
      for (let n = from; n <= to; n++) {
        // The open PRs are the newest numbers of the first batch, as on GitHub.
        const pr: Pr = { number: n, open: n > records - openCount && n <= records, updatedAt: iso(now.getTime() - 2 * 86_400_000 - (records - n) * 1000), sha: shaOf(n, 0) };
        prs.push(pr);
        bytes += writePr(dir, t, pr, fetchedAt);
      }
      return bytes;
    };
    const gen = await timed(async () => generate(1, records));
    const recordBytes = Math.round(gen.value / records);
    writeFileSync(join(dir, "missing_prs.txt"), `-- PRs without data yet\n${Array.from({ length: 20 }, (_, i) => 90_001 + i).join("\n")}\n`);
    writeFileSync(join(dir, "stubborn_prs.txt"), "-- basic data only\n");
    const open = prs.filter((p) => p.open).map((p) => summaryOf(t, p));

    // What one cycle changed: 50 records re-downloaded (spread over data/), one of them broken by an older tool.
    const step = Math.max(1, Math.floor(records / changedCount));
    const changed = Array.from({ length: changedCount }, (_, i) => 1 + i * step);
    for (const n of changed) {
      const pr = prs[n - 1]!;
      pr.updatedAt = iso(Date.parse(pr.updatedAt) + 60_000);
      writePr(dir, t, pr, iso(now.getTime() - 3_600_000));
    }
    const broken = changed[changedCount >> 1]!;
    writeFileSync(join(dir, "data", String(broken), "pr_info.json"), recordText(t, prs[broken - 1]!).slice(0, 700));

    // Dirty pages still being written back would slow whichever check runs first.
    const settle = () => spawnSync("sync", { stdio: "ignore" });
    const measure = async (label: string, fullRuns: number) => {
      settle();
      const full: number[] = [];
      const cycle: number[] = [];
      let fullFindings: Finding[] = [];
      let cycleFindings: Finding[] = [];
      for (let i = 0; i < 3; i++) await cycleCheck(dir, changed, open, now); // warm-up: JIT, first directory lookups
      // The per-cycle runs first: a full scan just before would evict what they read.
      for (let i = 0; i < cycleRuns; i++) {
        const c = await timed(() => cycleCheck(dir, changed, open, now));
        cycle.push(c.ms);
        cycleFindings = c.value;
      }
      for (let i = 0; i < fullRuns; i++) {
        const f = await timed(() => fullCheck(dir, open, now));
        full.push(f.ms);
        fullFindings = f.value;
      }
      if (describe(fullFindings) !== `broken-record:${broken}` || describe(cycleFindings) !== describe(fullFindings)) {
        throw new Error(`${label}: the checks disagree or miss the broken record: full [${describe(fullFindings)}], cycle [${describe(cycleFindings)}]`);
      }
      return { fullMs: median(full), cycleMs: median(cycle), fullN: full.length, cycleN: cycle.length };
    };

    const base = await measure(`${records} records`, fullRuns);
    // data/ doubles with closed PRs: the open PRs and the cycle's changes stay the same.
    generate(records + 1, 2 * records);
    // One full run suffices to show it doubles (and keeps the benchmark within a few minutes).
    const doubled = await measure(`${2 * records} records`, 1);

    const ratio = base.fullMs / base.cycleMs;
    const fullGrowth = doubled.fullMs / base.fullMs;
    const cycleGrowth = doubled.cycleMs / base.cycleMs;
    const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));
    const summary = [
      `integrity check, generated repo of ${records} records (~${(recordBytes / 1024).toFixed(1)} KB pr_info.json each, written in ${(gen.ms / 1000).toFixed(1)} s), ${openCount} open, ${changedCount} changed:`,
      `  full check      (scanRepo all + runChecks full):                    median ${fmt(base.fullMs)} ms over ${base.fullN} runs`,
      `  per-cycle check (scanRepo only changed+open+listed + runChecks cycle): median ${fmt(base.cycleMs)} ms over ${base.cycleN} runs`,
      `  ratio full / per-cycle: ${ratio.toFixed(1)}x`,
      `data/ doubled to ${2 * records} records (same open PRs and changes):`,
      `  full check ${fmt(doubled.fullMs)} ms (${doubled.fullN} run, x${fullGrowth.toFixed(2)}), per-cycle check median ${fmt(doubled.cycleMs)} ms over ${doubled.cycleN} runs (x${cycleGrowth.toFixed(2)})`,
      `(benchmark time ${((Date.now() - started) / 1000).toFixed(0)} s before cleanup)`,
    ].join("\n");
    return {
      records,
      open: openCount,
      changed: changedCount,
      fullMs: base.fullMs,
      cycleMs: base.cycleMs,
      ratio,
      doubled: { records: 2 * records, fullMs: doubled.fullMs, cycleMs: doubled.cycleMs, fullGrowth, cycleGrowth },
      recordBytes,
      generateMs: gen.ms,
      summary,
    };
  } finally {
    // rm -rf takes a fraction of rmSync's time on 180,000 files; rmSync where there is no rm.
    if (spawnSync("rm", ["-rf", dir], { stdio: "ignore" }).status !== 0) rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const records = Number(process.argv[2] ?? 30_000);
  const open = Number(process.argv[3] ?? 300);
  const ok = (n: number) => Number.isInteger(n) && n > 0;
  const result = await benchIntegrityCheck({ ...(ok(records) ? { records } : {}), ...(ok(open) ? { open } : {}) });
  console.log(result.summary);
}
