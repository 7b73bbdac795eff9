// Benchmark: what one merge-driver invocation costs git, beside git's own built-in
// `git merge-file --union` on the same three inputs (the textual merge the driver replaces).
// Both are spawned the same way, interleaved so machine noise hits both alike; the ratio is
// measured in this run. The in-process merge time is printed too, to show where the
// driver's time goes (node startup, not the merge).
//
//   node dist/bench/merge-driver.js [runs]
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { listEntries, parseList, removeEntries, serializeList, addEntries } from "../src/lists/list-file.js";
import { mergeLists } from "../src/merge/set-merge.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "../..");
const DRIVER = resolve(HERE, "../merge-driver/main.js");

export interface MergeDriverBench {
  runs: number;
  driverMs: number;
  unionMs: number;
  inProcessMs: number;
  ratio: number;
  summary: string;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** A realistic concurrent edit of the real 1796-line backfill list: downloads on both sides, appends on both. */
function inputs(): { base: string; ours: string; theirs: string } {
  const base = readFileSync(join(ROOT, "fixtures/lists/closed_prs_to_backfill.000039d6.txt"), "utf8");
  const list = parseList(base);
  const entries = listEntries(list);
  const pick = (from: number, n: number) => entries.slice(from, from + n);
  const ours = serializeList(addEntries(removeEntries(list, [...pick(10, 3), ...pick(900, 2)]), [40001, 40002, 40003]));
  const theirs = serializeList(addEntries(removeEntries(list, [...pick(500, 2), ...pick(1700, 2)]), [40010, 40011, 40012, 40013, 40014, 40015]));
  return { base, ours, theirs };
}

function timeSpawn(cmd: string, args: string[], cwd: string, okCodes: number[]): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status === null || !okCodes.includes(r.status)) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return ms;
}

export function benchMergeDriver(runs = 25): MergeDriverBench {
  const dir = mkdtempSync(join(tmpdir(), "prstate-bench-"));
  try {
    const { base, ours, theirs } = inputs();
    writeFileSync(join(dir, "O"), base);
    writeFileSync(join(dir, "A0"), ours);
    writeFileSync(join(dir, "B"), theirs);

    const driver: number[] = [];
    const union: number[] = [];
    const warmup = 3;
    for (let i = 0; i < runs + warmup; i++) {
      copyFileSync(join(dir, "A0"), join(dir, "A"));
      const d = timeSpawn(process.execPath, [DRIVER, "O", "A", "B", "closed_prs_to_backfill.txt"], dir, [0]);
      if (i === 0 && readFileSync(join(dir, "A"), "utf8") !== mergeLists(base, ours, theirs)) throw new Error("driver result differs from mergeLists");
      copyFileSync(join(dir, "A0"), join(dir, "A"));
      const u = timeSpawn("git", ["merge-file", "--union", "A", "O", "B"], dir, [0]);
      if (i >= warmup) {
        driver.push(d);
        union.push(u);
      }
    }

    const inProcess: number[] = [];
    for (let i = 0; i < 200; i++) {
      const start = process.hrtime.bigint();
      mergeLists(base, ours, theirs);
      inProcess.push(Number(process.hrtime.bigint() - start) / 1e6);
    }

    const driverMs = median(driver);
    const unionMs = median(union);
    const inProcessMs = median(inProcess);
    const ratio = driverMs / unionMs;
    const summary =
      `driver median ${driverMs.toFixed(1)} ms, git merge-file --union ${unionMs.toFixed(1)} ms, ratio ${ratio.toFixed(1)}x ` +
      `(${runs} spawns each, 1796-line list; the merge itself takes ${inProcessMs.toFixed(2)} ms in process)`;
    return { runs, driverMs, unionMs, inProcessMs, ratio, summary };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const runs = Number(process.argv[2] ?? 25);
  console.log(benchMergeDriver(Number.isInteger(runs) && runs > 0 ? runs : 25).summary);
}
