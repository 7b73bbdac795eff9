// The three GraphQL queries prstate sends, read from the package's top-level `queries/`
// folder (copies of the recorded queries extended only by additions: an operation name,
// `updatedAt` in every query, and the root `rateLimit` field). They live in files, not in
// code, so that they can be compared with the upstream queries line by line.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export type QueryKind = "full" | "basic" | "reactions";

/** File name in `queries/` of each query, and of the record file its response is stored as. */
export const QUERY_FILES: Readonly<Record<QueryKind, string>> = {
  full: "pr_info.graphql",
  basic: "basic_pr_info.graphql",
  reactions: "pr_reactions.graphql",
};

/** Operation name declared by each query file (`query PrInfo(...)`). */
export const OPERATION_NAMES: Readonly<Record<QueryKind, string>> = {
  full: "PrInfo",
  basic: "BasicPrInfo",
  reactions: "PrReactions",
};

/** Absolute path of `queries/`: dist/src/github/queries.js -> <package root>/queries. */
export const QUERIES_DIR = fileURLToPath(new URL("../../../queries/", import.meta.url));

const cache = new Map<QueryKind, string>();

/** The text of one query, read once per process. */
export function queryText(kind: QueryKind): string {
  let text = cache.get(kind);
  if (text === undefined) {
    text = readFileSync(QUERIES_DIR + QUERY_FILES[kind], "utf8");
    cache.set(kind, text);
  }
  return text;
}
