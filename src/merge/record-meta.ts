// What the merge needs to know about a PR record (pr_info.json, basic_pr_info.json,
// pr_reactions.json): whether it is a record at all, the PR's `updatedAt`, and prstate's own
// fetch stamp. The stamp travels inside the file as a top-level `"prstate": {"fetchedAt": ISO}`
// beside `"data"`, an addition to the recorded GraphQL shape (consumers read only `data`).

function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
}

function isObject(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A GraphQL response that holds a pull request and reports no errors. */
export function isRecordDoc(doc: unknown): boolean {
  return isObject(doc) && field(doc, "errors") === undefined && isObject(field(field(field(doc, "data"), "repository"), "pullRequest"));
}

/** `data.repository.pullRequest.updatedAt`, when it is a string. */
export function recordUpdatedAt(doc: unknown): string | undefined {
  const value = field(field(field(field(doc, "data"), "repository"), "pullRequest"), "updatedAt");
  return typeof value === "string" ? value : undefined;
}

/** prstate's fetch stamp `prstate.fetchedAt`, when it is a string. */
export function recordFetchedAt(doc: unknown): string | undefined {
  const value = field(field(doc, "prstate"), "fetchedAt");
  return typeof value === "string" ? value : undefined;
}
