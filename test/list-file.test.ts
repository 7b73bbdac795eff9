// The list-file model on every real list of fixtures/lists and on the shapes real repos
// have: CRLF and mixed endings, a missing final newline, comments, blank runs, duplicates.
import test from "ava";
import fc from "fast-check";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  addEntries,
  dedupeList,
  emptyList,
  hasEntry,
  listEntries,
  parseList,
  removeEntries,
  removeLines,
  serializeList,
} from "../src/lists/list-file.js";

const LISTS = join(process.cwd(), "fixtures", "lists");
const fixtures = readdirSync(LISTS).filter((f) => f.endsWith(".txt"));
const read = (name: string) => readFileSync(join(LISTS, name), "utf8");
const STUBBORN = "stubborn_prs.02a49d79.txt";

test("every fixture list round-trips byte for byte", (t) => {
  t.true(fixtures.length >= 9);
  for (const name of fixtures) {
    const text = read(name);
    t.is(serializeList(parseList(text)), text, name);
  }
});

test("fixture lists parse into entries, comments and blanks, never invalid lines", (t) => {
  for (const name of fixtures) {
    const list = parseList(read(name));
    t.false(list.lines.some((l) => l.type === "invalid"), name);
  }
  const stubborn = parseList(read(STUBBORN));
  t.is(stubborn.lines.filter((l) => l.type === "entry" && l.pr === 16023).length, 83);
  t.is(stubborn.lines.filter((l) => l.type === "comment").length, 3);
  t.is(listEntries(stubborn).filter((n) => n === 16023).length, 1);
  t.is(listEntries(parseList(read("missing_prs.001785c6.txt"))).join(), "17469");
  const noNewline = parseList(read("stubborn_prs.aaaf13f1.txt"));
  t.false(noNewline.finalNewline);
  t.is(listEntries(noNewline).at(-1), 17451);
});

test("listEntries is unique in first-occurrence order", (t) => {
  const list = parseList("5\n3\n5\n-- c\n3\n7\n");
  t.deepEqual(listEntries(list), [5, 3, 7]);
  t.true(hasEntry(list, 7));
  t.false(hasEntry(list, 4));
});

test("CRLF: 123\\r and 123 are the same entry, and the file keeps its endings", (t) => {
  const text = "-- header\r\n123\r\n456\r\n";
  const list = parseList(text);
  t.is(list.eol, "\r\n");
  t.deepEqual(listEntries(list), [123, 456]);
  t.is(serializeList(list), text);
  t.is(serializeList(addEntries(list, [789])), "-- header\r\n123\r\n456\r\n789\r\n");
  t.deepEqual(listEntries(parseList("123\r\n123\n123\r")), [123]);
  t.is(serializeList(dedupeList(parseList("123\r\n123\n"))), "123\r\n");
});

test("mixed endings round-trip and each line keeps its own ending through edits", (t) => {
  const text = "1\r\n2\n3\r\n4\r\n-- c\n";
  const list = parseList(text);
  t.is(list.eol, "\r\n");
  t.is(serializeList(list), text);
  t.is(serializeList(removeEntries(list, [3])), "1\r\n2\n4\r\n-- c\n");
});

test("whitespace and odd lines: kept verbatim, classified by meaning", (t) => {
  const text = "  42 \n\t\n--x\n  -- indented\nabc\n12a\n0\n012\n-3\n1e3\n99999999999\n";
  const list = parseList(text);
  t.deepEqual(
    list.lines.map((l) => l.type),
    ["entry", "blank", "comment", "comment", "invalid", "invalid", "invalid", "invalid", "invalid", "invalid", "invalid"],
  );
  t.deepEqual(listEntries(list), [42]);
  t.is(serializeList(list), text);
  // Invalid lines are never dropped by edits or dedupe.
  t.is(serializeList(dedupeList(removeEntries(list, [42]))), "\t\n--x\n  -- indented\nabc\n12a\n0\n012\n-3\n1e3\n99999999999\n");
});

test("missing final newline: appends keep the file's style; removing the last line keeps the others' bytes", (t) => {
  const list = parseList("1\n2");
  t.is(serializeList(addEntries(list, [3])), "1\n2\n3");
  t.is(serializeList(removeEntries(list, [2])), "1\n");
  t.is(serializeList(removeEntries(list, [1])), "2");
  t.is(serializeList(removeEntries(parseList("\n11"), [11])), "\n", "the blank line survives");
  t.is(serializeList(removeEntries(list, [1, 2])), "");
  t.is(serializeList(addEntries(parseList(""), [7])), "7\n");
  t.is(serializeList(addEntries(emptyList(), [7, 8, 7])), "7\n8\n");
  t.is(serializeList(emptyList()), "");
});

test("edits keep every comment: add, remove, removeLines, dedupe on the stubborn list", (t) => {
  const text = read(STUBBORN);
  const list = parseList(text);
  const comments = list.lines.filter((l) => l.type === "comment").map((l) => l.raw);

  const added = addEntries(list, [16023, 4197, 30001, 30001]);
  t.is(serializeList(added), text + "30001\n", "present entries are not added again");

  const removed = removeEntries(list, [16023]);
  t.false(hasEntry(removed, 16023));
  t.deepEqual(removed.lines.filter((l) => l.type === "comment").map((l) => l.raw), comments);

  const dedup = dedupeList(list);
  t.deepEqual(dedup.lines.filter((l) => l.type === "comment").map((l) => l.raw), comments);
  t.deepEqual(listEntries(dedup), listEntries(list));
  t.is(dedup.lines.filter((l) => l.type === "entry").length, listEntries(list).length, "no duplicate entries");
  const types = dedup.lines.map((l) => l.type);
  t.false(types.some((type, i) => type === "blank" && types[i + 1] === "blank"), "no blank runs");
  t.is(dedupeList(dedup), dedup, "dedupe of a deduped list changes nothing");

  const noComments = removeLines(list, (l) => l.type === "comment");
  t.is(noComments.lines.length, list.lines.length - comments.length);
  t.is(removeLines(list, () => false), list);
});

test("dedupe collapses blank runs that appear once duplicates go", (t) => {
  t.is(serializeList(dedupeList(parseList("1\n\n1\n\n1\n\n2\n"))), "1\n\n2\n");
  t.is(serializeList(dedupeList(parseList("-- a\n-- a\n\n\n\n3\n3"))), "-- a\n-- a\n\n3\n");
});

test("property: parse -> serialize is byte-identical for any text", (t) => {
  const char = fc.constantFrom("1", "2", "0", "9", "-", " ", "\t", "\r", "\n", "\r\n", "a", "é", "\uFEFF");
  fc.assert(
    fc.property(fc.array(char, { maxLength: 60 }), (chars) => {
      const text = chars.join("");
      return serializeList(parseList(text)) === text;
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

test("property: add/remove keep every non-entry line and set the entries exactly", (t) => {
  const line = fc.oneof(
    fc.integer({ min: 1, max: 30 }).map(String),
    fc.constantFrom("", "-- c", "-- second attempt for 3", "x", " 4\r"),
  );
  fc.assert(
    fc.property(
      fc.array(line, { maxLength: 30 }),
      fc.boolean(),
      fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 6 }),
      fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 6 }),
      (lines, finalNewline, add, remove) => {
        const list = parseList(lines.join("\n") + (finalNewline ? "\n" : ""));
        const others = (l: typeof list) => l.lines.filter((x) => x.type !== "entry").map((x) => x.raw);
        const edited = removeEntries(addEntries(list, add), remove);
        const reparsed = parseList(serializeList(edited));
        const expected = [...new Set([...listEntries(list), ...add])].filter((n) => !remove.includes(n));
        return JSON.stringify(listEntries(reparsed)) === JSON.stringify(expected) && JSON.stringify(others(reparsed)) === JSON.stringify(others(list));
      },
    ),
    { numRuns: 5000 },
  );
  t.pass();
});
