// Turns whatever octokit or fetch threw into exactly one of the GitHubError subclasses of
// src/errors.ts, once, at the edge. Callers (retry counting, stubborn classification, exit
// codes) switch on those classes and never look at HTTP details or message text.
import {
  AuthError,
  GitHubError,
  NotFoundError,
  RateLimitError,
  ServerError,
  TimeoutError,
  errorMessage,
} from "../errors.js";

interface ResponseLike {
  status?: number;
  headers?: Record<string, string | number | undefined>;
  data?: unknown;
}

/** Wraps `err` (an octokit RequestError, a fetch failure, ...) thrown while doing `context`. */
export function wrapGitHubError(err: unknown, context: string, now: () => number = Date.now): GitHubError {
  if (err instanceof GitHubError) return err;
  const cause = { cause: err };
  if (isTimeout(err)) return new TimeoutError(`${context}: no answer within the request timeout`, undefined, cause);

  const e = (typeof err === "object" && err !== null ? err : {}) as { status?: unknown; response?: ResponseLike };
  const response = e.response;
  const detail = shorten(serverMessage(response?.data) ?? errorMessage(err));
  if (graphqlRateLimited(response?.data)) {
    const resetAt = resetTime(response, now);
    const when = resetAt ? `; resets at ${resetAt.toISOString()}` : "";
    return new RateLimitError(`${context}: GraphQL rate limit exceeded${when}`, response?.status, resetAt, cause);
  }
  if (!response || typeof response !== "object") {
    // No HTTP answer at all: refused, reset or dropped connection. Transient, like a 5xx.
    return new ServerError(`${context}: network error: ${detail}`, undefined, cause);
  }
  const status = typeof response.status === "number" ? response.status : typeof e.status === "number" ? e.status : 0;
  if (status === 401) return new AuthError(`${context}: GitHub refused the credentials (401): ${detail}`, status, cause);
  if (status === 403 || status === 429) {
    if (status === 429 || rateLimitSignals(response, detail)) {
      const resetAt = resetTime(response, now);
      const when = resetAt ? `; resets at ${resetAt.toISOString()}` : "";
      return new RateLimitError(`${context}: rate limited (${status})${when}: ${detail}`, status, resetAt, cause);
    }
    return new AuthError(`${context}: forbidden (403), the token lacks permission: ${detail}`, status, cause);
  }
  if (status === 404 || status === 410) return new NotFoundError(`${context}: not found (${status})`, status, cause);
  if (status >= 500) return new ServerError(`${context}: server error ${status}: ${detail}`, status, cause);
  return new GitHubError(`${context}: HTTP ${status}: ${detail}`, status, cause);
}

/** A request that ran out of time: our own per-request timer, or undici's header/body timeouts. */
export function isTimeout(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && typeof e === "object" && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { name, code } = e as { name?: unknown; code?: unknown };
    if (name === "TimeoutError" || name === "AbortError") return true;
    if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT" || code === "ETIMEDOUT") return true;
  }
  return false;
}

function header(response: ResponseLike, name: string): string | undefined {
  const value = response.headers?.[name];
  return value === undefined ? undefined : String(value);
}

// GitHub marks both primary and secondary limits; a 403 without any of these is a permission problem.
function rateLimitSignals(response: ResponseLike, detail: string): boolean {
  if (header(response, "x-ratelimit-remaining") === "0") return true;
  if (header(response, "retry-after") !== undefined) return true;
  const data = response.data as { message?: unknown; documentation_url?: unknown } | undefined;
  const text = `${detail} ${typeof data?.message === "string" ? data.message : ""} ${
    typeof data?.documentation_url === "string" ? data.documentation_url : ""
  }`;
  return /secondary rate limit|rate limit exceeded|rate-limit/i.test(text) || graphqlRateLimited(response.data);
}

function graphqlRateLimited(data: unknown): boolean {
  const errors = (data as { errors?: unknown } | undefined)?.errors;
  return Array.isArray(errors) && errors.some((x) => (x as { type?: unknown } | null)?.type === "RATE_LIMITED");
}

function resetTime(response: ResponseLike | undefined, now: () => number): Date | undefined {
  if (!response) return undefined;
  const retryAfter = header(response, "retry-after");
  if (retryAfter !== undefined) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds)) return new Date(now() + seconds * 1000);
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return new Date(date);
  }
  const reset = Number(header(response, "x-ratelimit-reset"));
  if (header(response, "x-ratelimit-remaining") === "0" && Number.isFinite(reset) && reset > 0) return new Date(reset * 1000);
  return undefined;
}

// GitHub's own words: REST `message`, or the first GraphQL error (octokit's message would be the whole body).
function serverMessage(data: unknown): string | undefined {
  if (typeof data !== "object" || data === null) return undefined;
  const { message, errors } = data as { message?: unknown; errors?: unknown };
  if (typeof message === "string") return message;
  const first = Array.isArray(errors) ? (errors[0] as { message?: unknown } | undefined)?.message : undefined;
  return typeof first === "string" ? first : undefined;
}

function shorten(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
