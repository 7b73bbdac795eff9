// The queries prstate sends are the recorded ones extended only by additions (issue 3,
// DESIGN 1: a dashboard reading today's records keeps working). Every line of the recorded
// query must appear, in order, in prstate's; what is added must be one of the known additions.
import test from "ava";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { QUERY_FILES, queryText } from "../src/github/queries.js";

const RECORDED = fileURLToPath(new URL("../../fixtures/queries/", import.meta.url));
// The root rateLimit selection and updatedAt, each on its own line.
const ALLOWED_ADDITION = /^\s*(rateLimit \{|cost|remaining|resetAt|\}|updatedAt)\s*$/;

for (const [kind, file] of Object.entries(QUERY_FILES)) {
  test(`${file}: the recorded query plus additions only`, (t) => {
    const recorded = readFileSync(`${RECORDED}${file}`, "utf8").split("\n");
    // The operation name is an addition to the recorded first line (`query($owner: ...`).
    const ours = queryText(kind as keyof typeof QUERY_FILES).split("\n").map((l) => l.replace(/^query [A-Za-z]+\(/, "query("));
    let i = 0;
    const added: string[] = [];
    for (const line of ours) {
      if (i < recorded.length && line === recorded[i]) i++;
      else added.push(line);
    }
    const unmatched = recorded.slice(i).filter((l) => l.trim() !== "");
    t.deepEqual(unmatched, [], "every recorded line is kept, in order");
    t.deepEqual(added.filter((l) => !ALLOWED_ADDITION.test(l)), [], "only known additions");
    t.true(ours.some((l) => /^\s*updatedAt\s*$/.test(l)), "updatedAt is selected, so each file decides its own merge");
  });
}
