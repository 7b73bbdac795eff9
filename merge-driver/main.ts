// The merge driver git spawns for every path that both sides changed and that .gitattributes
// routes to `merge=prstate`:  node <abs>/dist/merge-driver/main.js %O %A %B %P
//
// One driver for every strategy: it dispatches on %P through mergeForPath, the same function
// prstate's in-process merge uses, so git and prstate cannot disagree about a path, and a new
// strategy needs no new `merge.*` entry in every clone's .git/config.
//
// It loads only the pure merge modules (git spawns it once per path, so startup is its cost).
// On success it replaces %A (temp file + rename in %A's folder) and exits 0. When it cannot
// merge, %A stays untouched, one line goes to stderr, and it exits 1: git records a conflict.
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { mergeForPath } from "../src/merge/merge-for-path.js";

function fail(message: string): never {
  process.stderr.write(`prstate merge driver: ${message.replace(/\s+/g, " ")}\n`);
  process.exit(1);
}

function main(args: string[]): void {
  if (args.length !== 4) fail(`expected 4 arguments (%O %A %B %P), got ${args.length}`);
  const [basePath, oursPath, theirsPath, path] = args as [string, string, string, string];

  let base: Buffer, ours: Buffer, theirs: Buffer;
  try {
    base = readFileSync(basePath);
    ours = readFileSync(oursPath);
    theirs = readFileSync(theirsPath);
  } catch (err) {
    fail(`${path}: cannot read the merge inputs: ${(err as Error).message}`);
  }

  // Git hands add/add over with an empty %O; for every strategy an empty base means "nothing".
  const outcome = mergeForPath(path, base, ours, theirs);
  if (!outcome.ok) fail(outcome.reason);
  // Git only calls drivers when both sides hold the file, so a merge that deletes cannot arise.
  if (outcome.content === null) fail(`${path}: the merge would delete the file`);
  if (outcome.content.equals(ours)) return;

  const temp = join(dirname(oursPath), `.${basename(oursPath)}.prstate-${process.pid}.tmp`);
  try {
    writeFileSync(temp, outcome.content);
    renameSync(temp, oursPath);
  } catch (err) {
    rmSync(temp, { force: true });
    fail(`${path}: cannot write the merge result: ${(err as Error).message}`);
  }
}

main(process.argv.slice(2));
