// Attempt counts recorded by the tooling that predates prstate: a comment line in a list file,
// `-- second attempt for 123`, written before the PR's next try. "second attempt" therefore
// means one attempt has already failed, "third" two, and so on ("first attempt" none). These
// comments are read as attempts (without an attempt file) so a PR the old tooling already
// struggled with keeps its history. Pure: works on parsed lists.
import type { ListName } from "../layout.js";
import type { ListFile } from "../lists/list-file.js";
import type { AttemptFacts } from "../state/pr-facts.js";

const ORDINALS: Record<string, number> = {
  first: 1, second: 2, third: 3, fourth: 4, fifth: 5, sixth: 6, seventh: 7, eighth: 8, ninth: 9, tenth: 10,
};

const LEGACY = /^--\s*(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|[1-9][0-9]?(?:st|nd|rd|th))\s+attempt\s+for\s+#?([1-9][0-9]{0,9})\s*$/i;

/** The PR and the number of failed attempts a legacy comment line stands for; undefined for any other line. */
export function parseLegacyAttempt(raw: string): { pr: number; failures: number } | undefined {
  const m = LEGACY.exec(raw.trim());
  if (!m) return undefined;
  const word = m[1]!.toLowerCase();
  const ordinal = ORDINALS[word] ?? Number.parseInt(word, 10);
  const pr = Number(m[2]);
  if (pr > 2 ** 31 - 1) return undefined;
  return { pr, failures: ordinal - 1 };
}

/** Failed attempts per PR from a list's legacy comments; several comments for one PR count as the highest. */
export function legacyAttemptCounts(list: ListFile): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of list.lines) {
    if (line.type !== "comment") continue;
    const legacy = parseLegacyAttempt(line.raw);
    if (legacy && legacy.failures > (out.get(legacy.pr) ?? 0)) out.set(legacy.pr, legacy.failures);
  }
  return out;
}

/** Time of a legacy attempt: unknown, so as old as possible (it never holds a PR in backoff). */
export const LEGACY_ATTEMPT_TIME = "1970-01-01T00:00:00.000Z";

/** `failures` AttemptFacts without `path` for a legacy comment found in `list`. */
export function legacyAttemptFacts(list: ListName, failures: number): AttemptFacts[] {
  return Array.from({ length: failures }, () => ({
    at: LEGACY_ATTEMPT_TIME,
    writer: `legacy-${list}-list`,
    errorClass: "legacy",
    // Only the stubborn list's tooling used the basic query.
    query: list === "stubborn" ? "basic" : "full",
  }));
}
