// Checks one GraphQL answer about a PR before anything is stored: a body that is not JSON
// (cut off in transit), GraphQL `errors`, or a missing `data.repository.pullRequest` must
// become a typed error, never a record. Pure: no I/O.
import { MalformedResponseError, NotFoundError, RateLimitError } from "../errors.js";

export interface PullRequestResponse {
  /** The response as GitHub sent it, minus `data.rateLimit` (so stored records keep their shape). */
  doc: { data: Record<string, unknown> } & Record<string, unknown>;
  pullRequest: Record<string, unknown>;
  updatedAt: string;
  /** The `rateLimit` field that was removed, if any. */
  rateLimit: unknown;
}

export function checkPullRequestResponse(body: unknown, pr: number, context: string): PullRequestResponse {
  if (typeof body === "string") {
    throw new MalformedResponseError(`${context}: the body is not JSON (truncated or cut off? ${body.length} characters)`);
  }
  if (!isObject(body)) throw new MalformedResponseError(`${context}: the body is not a JSON object`);
  const errors = body.errors;
  if (Array.isArray(errors) && errors.length > 0) {
    const message = (type?: string) => {
      const e = errors.find((x) => isObject(x) && (type === undefined || x.type === type));
      return isObject(e) && typeof e.message === "string" ? e.message.slice(0, 200) : "unknown error";
    };
    const types = errors.map((e) => (isObject(e) ? e.type : undefined));
    if (types.includes("NOT_FOUND")) throw new NotFoundError(`${context}: not found: ${message("NOT_FOUND")}`);
    if (types.includes("RATE_LIMITED")) throw new RateLimitError(`${context}: GraphQL rate limit exceeded`, undefined);
    throw new MalformedResponseError(`${context}: GraphQL errors: ${message()}`);
  }
  const data = body.data;
  const repository = isObject(data) ? data.repository : undefined;
  const pullRequest = isObject(repository) ? repository.pullRequest : undefined;
  if (!isObject(data) || !isObject(repository) || !isObject(pullRequest)) {
    throw new MalformedResponseError(`${context}: the response has no data.repository.pullRequest`);
  }
  if ("number" in pullRequest && pullRequest.number !== pr) {
    throw new MalformedResponseError(`${context}: asked for PR #${pr}, got ${JSON.stringify(pullRequest.number)}`);
  }
  const updatedAt = pullRequest.updatedAt;
  if (typeof updatedAt !== "string" || Number.isNaN(Date.parse(updatedAt))) {
    throw new MalformedResponseError(`${context}: pullRequest.updatedAt is missing or not a time`);
  }
  const { rateLimit, ...rest } = data;
  return { doc: { ...body, data: rest }, pullRequest, updatedAt, rateLimit };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
