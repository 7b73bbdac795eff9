// Whole-file choice between two versions of a PR record (DESIGN section 4). Records are never
// merged field by field: a text merge of two GraphQL responses can produce a record that no
// download ever returned. The order of the rules makes the winner independent of which side
// is "ours": every rule compares the two sides by a property of their content only.
import { compareInstants, compareText, parseInstant } from "./instant.js";
import { isRecordDoc, recordFetchedAt, recordUpdatedAt } from "./record-meta.js";

export type Choice = { winner: "ours" | "theirs" } | { error: string };

interface Candidate {
  valid: boolean;
  why: string;
  updatedAt?: number;
  fetchedAt?: number;
}

function inspect(text: string | null): Candidate {
  if (text === null) return { valid: false, why: "deleted" };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { valid: false, why: "not JSON" };
  }
  if (!isRecordDoc(doc)) return { valid: false, why: "no data.repository.pullRequest (or has errors)" };
  return { valid: true, why: "", updatedAt: parseInstant(recordUpdatedAt(doc)), fetchedAt: parseInstant(recordFetchedAt(doc)) };
}

/** Whether `text` is a PR record (what wins over a deletion). */
export function isRecordText(text: string): boolean {
  return inspect(text).valid;
}

/**
 * Chooses between two versions of one record file (null = absent). A record beats a file
 * that is not one; then the newer PR `updatedAt`; then the newer fetch stamp (CI results
 * change without bumping `updatedAt`); then the greater text, a fixed rule so both merge
 * directions agree. Neither side a record -> error.
 */
export function chooseRecord(ours: string | null, theirs: string | null): Choice {
  const a = inspect(ours);
  const b = inspect(theirs);
  if (!a.valid && !b.valid) return { error: `neither side is a valid PR record (ours: ${a.why}; theirs: ${b.why})` };
  if (a.valid !== b.valid) return { winner: a.valid ? "ours" : "theirs" };
  const order =
    compareInstants(a.updatedAt, b.updatedAt) || compareInstants(a.fetchedAt, b.fetchedAt) || compareText(ours!, theirs!);
  return { winner: order >= 0 ? "ours" : "theirs" };
}
