// `prstate history N`: a PR's transitions read back from the commit trailers (DESIGN
// section 9). git itself filters the log with an anchored --grep on the `Prstate-PR: N`
// line, so only the few matching commits are ever formatted and parsed, however long the
// data repo's history is.
import { prNumber } from "../layout.js";
import { parseTransitions, TRAILER_PR, type Transition } from "./commit-message.js";
import { runGit } from "./git-cli.js";

export interface HistoryEntry {
  commit: string;
  /** Author date of the commit, strict ISO 8601. */
  date: string;
  transition: Transition;
}

const RECORD = "\x1e";
const FIELD = "\x1f";

/**
 * PR `pr`'s transitions on `rev` (default HEAD), newest first, also within one commit (a
 * message lists its moves oldest first). Empty for a PR that never changed state (or a repo without
 * commits).
 */
export async function prHistory(repoDir: string, pr: number, opts: { rev?: string } = {}): Promise<HistoryEntry[]> {
  const n = prNumber(pr);
  const rev = opts.rev ?? "HEAD";
  const head = await runGit(repoDir, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${rev}^{commit}`], { okCodes: [1, 128] });
  if (head.code !== 0) return [];
  const out = await runGit(repoDir, [
    "log",
    "--no-color",
    "--date-order",
    `--format=${RECORD}%H${FIELD}%aI${FIELD}%B`,
    "--regexp-ignore-case",
    `--grep=^${TRAILER_PR}: *${n} *$`,
    head.stdout.trim(),
    "--",
  ]);
  const entries: HistoryEntry[] = [];
  for (const record of out.stdout.split(RECORD)) {
    if (record.trim() === "") continue;
    const [commit, date, ...rest] = record.split(FIELD);
    // A commit lists its moves in the order they happened: reversed, newest first like the commits.
    const moves = parseTransitions(rest.join(FIELD)).filter((t) => t.pr === n).reverse();
    for (const transition of moves) entries.push({ commit: commit!.trim(), date: date!.trim(), transition });
  }
  return entries;
}
