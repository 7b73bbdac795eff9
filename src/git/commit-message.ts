// Commit messages are the audit trail (DESIGN section 2): every state transition of a PR is
// written as a trailer block, so `git log` alone answers "what happened to #1234 and why".
// Pure: no I/O. `parseTransitions` reads back exactly what `buildCommitMessage` writes, and
// tolerates hand-made or reflowed messages (CRLF, blocks without blank lines between them).
import { InputError, redact } from "../errors.js";
import { prNumber } from "../layout.js";

export interface Transition {
  pr: number;
  /** State before, e.g. "missing", "failing(2)". */
  from: string;
  /** State after, e.g. "fresh", "stubborn", "fresh (basic)". */
  to: string;
  reason: string;
  /** Workflow run or host id. */
  writer: string;
}

export const TRAILER_PR = "Prstate-PR";
export const TRAILER_TRANSITION = "Prstate-Transition";
export const TRAILER_REASON = "Prstate-Reason";
export const TRAILER_WRITER = "Prstate-Writer";

/** At most this many PR numbers are named in the subject of a multi-transition commit. */
const SUBJECT_PRS = 5;
const FIELD_MAX = 200;

/**
 * One line of text fit for a trailer value: control characters and line breaks become
 * spaces (a reason quoting a multi-line error must not start a fake trailer), runs of
 * blanks collapse, secrets are redacted, length is capped. Never empty.
 */
export function oneLine(text: string, fallback = "unspecified"): string {
  const clean = redact(String(text))
    .replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  const cut = clean.length > FIELD_MAX ? `${clean.slice(0, FIELD_MAX - 1)}…` : clean;
  return cut === "" ? fallback : cut;
}

// A state name must not contain the " -> " separator of the Transition trailer.
function stateName(text: string): string {
  return oneLine(text, "unknown").replace(/\s*->\s*/g, "-");
}

function normalise(t: Transition): Transition {
  return { pr: prNumber(t.pr), from: stateName(t.from), to: stateName(t.to), reason: oneLine(t.reason), writer: oneLine(t.writer, "unknown") };
}

/** The subject line: `prstate: #1234 missing -> fresh` or `prstate: 12 transitions (#1, #2, …)`. */
export function commitSubject(transitions: Transition[]): string {
  if (transitions.length === 0) throw new InputError("a transition commit needs at least one transition");
  const ts = transitions.map(normalise);
  if (ts.length === 1) return `prstate: #${ts[0]!.pr} ${ts[0]!.from} -> ${ts[0]!.to}`;
  const prs = [...new Set(ts.map((t) => t.pr))];
  const named = prs.slice(0, SUBJECT_PRS).map((n) => `#${n}`);
  if (prs.length > SUBJECT_PRS) named.push("…");
  return `prstate: ${ts.length} transitions (${named.join(", ")})`;
}

/**
 * The full message: subject, an optional free-text body, then one trailer block per
 * transition (in the given order), blocks separated by a blank line. Ends with "\n".
 */
export function buildCommitMessage(transitions: Transition[], opts: { subject?: string; body?: string } = {}): string {
  const subject = opts.subject !== undefined ? oneLine(opts.subject, "prstate: update") : commitSubject(transitions);
  const parts = [subject];
  const body = opts.body?.replace(/\r\n?/g, "\n").trim();
  if (body) parts.push(redact(body));
  for (const t of transitions.map(normalise)) {
    parts.push(
      [`${TRAILER_PR}: ${t.pr}`, `${TRAILER_TRANSITION}: ${t.from} -> ${t.to}`, `${TRAILER_REASON}: ${t.reason}`, `${TRAILER_WRITER}: ${t.writer}`].join("\n"),
    );
  }
  return `${parts.join("\n\n")}\n`;
}

/** The message of a push-loop merge commit: `prstate: merge origin/main` plus the writer trailer. */
export function mergeCommitMessage(remote: string, branch: string, writer: string): string {
  return `prstate: merge ${oneLine(remote, "origin")}/${oneLine(branch, "main")}\n\n${TRAILER_WRITER}: ${oneLine(writer, "unknown")}\n`;
}

const TRAILER_LINE = /^(Prstate-(?:PR|Transition|Reason|Writer))\s*:\s*(.*)$/i;

/**
 * Every transition a commit message carries, in message order. A block starts at each
 * `Prstate-PR:` line; a block without a valid PR number or a `from -> to` is skipped (a
 * hand-written message may be incomplete; history shows what can be trusted).
 */
export function parseTransitions(message: string): Transition[] {
  const out: Transition[] = [];
  let cur: Partial<Transition> | null = null;
  const flush = () => {
    if (cur && cur.pr !== undefined && cur.from !== undefined && cur.to !== undefined) {
      out.push({ pr: cur.pr, from: cur.from, to: cur.to, reason: cur.reason ?? "unspecified", writer: cur.writer ?? "unknown" });
    }
    cur = null;
  };
  for (const raw of message.split("\n")) {
    const m = TRAILER_LINE.exec(raw.trim());
    if (!m) continue;
    const key = m[1]!.toLowerCase();
    const value = m[2]!.trim();
    if (key === "prstate-pr") {
      flush();
      cur = /^[1-9][0-9]{0,9}$/.test(value) && Number(value) <= 2 ** 31 - 1 ? { pr: Number(value) } : {};
      continue;
    }
    if (!cur) continue; // a Writer trailer of a merge commit, not part of a transition
    if (key === "prstate-transition") {
      const sep = value.indexOf("->");
      if (sep > 0) {
        cur.from = value.slice(0, sep).trim();
        cur.to = value.slice(sep + 2).trim();
      }
    } else if (key === "prstate-reason") cur.reason = value;
    else if (key === "prstate-writer") cur.writer = value;
  }
  flush();
  return out;
}
