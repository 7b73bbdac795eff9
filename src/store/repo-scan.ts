// The repo scan: every file of the data repo that says something about a PR, turned into
// PrFacts for the pure state machine, scheduler and integrity checks. A full scan reads all
// of `data/`; a scan with `only` reads just those PRs' folders (plus the lists and the queue,
// which are small), which is what keeps the per-cycle integrity check proportional to what
// changed rather than to the size of `data/`.
import { join } from "node:path";
import { DATA_DIR, prNumber, STATE_DIR, tempDir, type ListName } from "../layout.js";
import { listQueue } from "../intake/queue-store.js";
import type { AttemptFacts, PrFacts } from "../state/pr-facts.js";
import { pathExists, readdirOrEmpty } from "./atomic-write.js";
import { readAttemptFiles } from "./attempts-store.js";
import { legacyAttemptCounts, legacyAttemptFacts } from "./legacy-attempts.js";
import { LIST_NAMES, readList } from "./list-store.js";
import { readRecordFolder, recordDir } from "./record-store.js";

export interface RepoScan {
  /** Every PR some file names (or, with `only`, exactly those PRs), in PR order. */
  prs: Map<number, PrFacts>;
  /**
   * Repo-relative paths that are not part of the layout: entries of `data/` other than `N`,
   * `N-basic`, `N-temp`, `N-basic-temp`, and folders of `state/attempts/` or `state/queue/`
   * that are not PR numbers. Empty for a scan with `only` (it lists no folder).
   */
  unexpected: string[];
  /** List lines that are neither a PR number, a `--` comment nor blank. */
  invalidListLines: { list: ListName; line: string }[];
  /** Attempt and queue files that do not parse (they still count as an attempt / a request). */
  unreadable: string[];
}

export interface ScanOptions {
  /** Scan only these PRs (each validated by prNumber); every one of them gets a PrFacts entry, even when no file names it. */
  only?: Iterable<number>;
  /** Folders read at once (default 64). */
  concurrency?: number;
}

const DATA_ENTRY = /^([1-9][0-9]*)(-basic)?(-temp)?$/;
const ATTEMPTS_ROOT = `${STATE_DIR}/attempts`;
const QUEUE_ROOT = `${STATE_DIR}/queue`;

/** A PR number from a folder name, or undefined (leading zeros, too large, not digits). */
function prFromName(name: string): number | undefined {
  try {
    return prNumber(name);
  } catch {
    return undefined;
  }
}

/** Runs `fn` over `items` with at most `limit` calls in flight. */
async function forEachPooled<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Reads what the data repo says about every PR (or only the PRs in `opts.only`). */
export async function scanRepo(repo: string, opts: ScanOptions = {}): Promise<RepoScan> {
  const only = opts.only === undefined ? undefined : new Set([...opts.only].map((n) => prNumber(n)));
  const concurrency = Math.max(1, opts.concurrency ?? 64);
  const scan: RepoScan = { prs: new Map(), unexpected: [], invalidListLines: [], unreadable: [] };
  const wanted = (pr: number) => only === undefined || only.has(pr);
  const factsOf = (pr: number): PrFacts => {
    let f = scan.prs.get(pr);
    if (!f) {
      f = { pr, temp: false, lists: new Set(), attempts: [], queued: [] };
      scan.prs.set(pr, f);
    }
    return f;
  };

  // Which record folders to read, and which PRs have leftover temp folders. With `only`,
  // every record folder of those PRs is a candidate (reading a missing one costs one failed
  // readdir), so nothing else in data/ is touched, not even its listing.
  const records: { pr: number; basic: boolean }[] = [];
  if (only) {
    await forEachPooled([...only], concurrency, async (pr) => {
      const f = factsOf(pr);
      for (const basic of [false, true]) {
        records.push({ pr, basic });
        if (await pathExists(join(repo, tempDir(pr, basic)))) f.temp = true;
      }
    });
  } else {
    for (const name of await readdirOrEmpty(join(repo, DATA_DIR))) {
      const m = DATA_ENTRY.exec(name);
      const pr = m ? prFromName(m[1]!) : undefined;
      if (pr === undefined) {
        scan.unexpected.push(`${DATA_DIR}/${name}`);
        continue;
      }
      if (m![3]) factsOf(pr).temp = true;
      else records.push({ pr, basic: m![2] !== undefined });
    }
  }

  // Attempt folders.
  let attemptPrs: number[];
  if (only) attemptPrs = [...only];
  else {
    attemptPrs = [];
    for (const name of await readdirOrEmpty(join(repo, ATTEMPTS_ROOT))) {
      const pr = prFromName(name);
      if (pr === undefined) scan.unexpected.push(`${ATTEMPTS_ROOT}/${name}`);
      else attemptPrs.push(pr);
    }
    for (const name of await readdirOrEmpty(join(repo, QUEUE_ROOT))) {
      if (prFromName(name) === undefined) scan.unexpected.push(`${QUEUE_ROOT}/${name}`);
    }
  }
  const attemptFiles = new Map<number, AttemptFacts[]>();
  await forEachPooled(attemptPrs, concurrency, async (pr) => {
    const { attempts, unreadable } = await readAttemptFiles(repo, pr);
    if (attempts.length > 0) attemptFiles.set(pr, attempts);
    scan.unreadable.push(...unreadable);
  });

  // The queue holds what arrived since it was last drained: small, read whole.
  for (const item of await listQueue(repo)) {
    if (!wanted(item.pr)) continue;
    const q: PrFacts["queued"][number] = { deliveryId: item.deliveryId, event: item.event, receivedAt: item.receivedAt, path: item.path };
    if (item.action !== undefined) q.action = item.action;
    factsOf(item.pr).queued.push(q);
    if (item.problem !== undefined) scan.unreadable.push(item.path);
  }

  // Lists: entries, invalid lines, and the older tooling's attempt comments.
  const legacy = new Map<number, { list: ListName; failures: number }>();
  for (const name of LIST_NAMES) {
    const list = await readList(repo, name);
    for (const line of list.lines) {
      if (line.type === "entry" && wanted(line.pr)) factsOf(line.pr).lists.add(name);
      else if (line.type === "invalid") scan.invalidListLines.push({ list: name, line: line.raw });
    }
    for (const [pr, failures] of legacyAttemptCounts(list)) {
      if (wanted(pr) && failures > (legacy.get(pr)?.failures ?? 0)) legacy.set(pr, { list: name, failures });
    }
  }
  // Legacy comments predate the attempt files, so both count: they are different attempts.
  for (const pr of new Set([...attemptFiles.keys(), ...legacy.keys()])) {
    const old = legacy.get(pr);
    factsOf(pr).attempts = [...(old ? legacyAttemptFacts(old.list, old.failures) : []), ...(attemptFiles.get(pr) ?? [])];
  }

  // Records last: the bulk of the work, read in parallel, parsed docs dropped at once.
  await forEachPooled(records, concurrency, async ({ pr, basic }) => {
    const parsed = await readRecordFolder(join(repo, recordDir(pr, basic)), pr, basic, { keepDocs: false });
    if (!parsed) return; // absent (or removed since the listing)
    const f = factsOf(pr);
    if (basic) f.basic = parsed.facts;
    else f.full = parsed.facts;
  });

  // PR order, so that everything derived from a scan (status, findings) is deterministic.
  scan.prs = new Map([...scan.prs].sort((a, b) => a[0] - b[0]));
  scan.unexpected.sort();
  scan.unreadable.sort();
  return scan;
}

/**
 * Head SHA -> PR, from the records' `headRefOid` (full record first, else basic), for mapping
 * CI events whose `pull_requests` list is empty (fork PRs). When several PRs share a head, an
 * open one wins over a closed one, then the higher (newer) PR number.
 */
export function headShaIndex(scan: RepoScan): Map<string, number> {
  const best = new Map<string, { pr: number; open: boolean }>();
  for (const f of scan.prs.values()) {
    const record = f.full?.headRefOid ? f.full : f.basic?.headRefOid ? f.basic : undefined;
    if (!record) continue;
    const sha = record.headRefOid!;
    const open = record.state === "OPEN";
    const current = best.get(sha);
    if (!current || (open && !current.open) || (open === current.open && f.pr > current.pr)) best.set(sha, { pr: f.pr, open });
  }
  return new Map([...best].map(([sha, v]) => [sha, v.pr]));
}
