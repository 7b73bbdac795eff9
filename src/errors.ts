// The project's own error types. Everything that can go wrong is thrown as one of these,
// so the CLI maps classes to exit codes and retry/stubborn logic switches on types, never
// on message text. Errors from libraries (octokit, nodegit, fs) are wrapped once, at the
// edge that called them.

/** Base of every prstate error. `exitCode` is what the CLI exits with. */
export class PrstateError extends Error {
  readonly exitCode: number = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(redact(message), options);
    this.name = new.target.name;
  }
}

/** Wrong command-line usage. */
export class UsageError extends PrstateError {
  override readonly exitCode = 2;
}

/** Bad input from a user or a file: a PR number like `../x`, a payload that is not JSON. */
export class InputError extends PrstateError {
  override readonly exitCode = 2;
}

/** prstate.yaml (or another setting) is invalid; the message names the key. */
export class ConfigError extends PrstateError {
  override readonly exitCode = 3;
}

/** A git operation failed (repo missing, driver not installed, fetch failed). */
export class GitError extends PrstateError {
  override readonly exitCode = 4;
}

/** The push loop gave up after its bounded retries, or the merged tree failed verification. */
export class PushError extends PrstateError {
  override readonly exitCode = 5;
}

/** A file of the data repo does not parse or has the wrong shape. */
export class DataError extends PrstateError {
  override readonly exitCode = 6;
}

/** Base of errors talking to GitHub. `retryable` decides whether another attempt may help. */
export class GitHubError extends PrstateError {
  override readonly exitCode: number = 7;
  readonly retryable: boolean = true;
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** 401, or 403 without rate-limit headers: the token is wrong or lacks permission. Systemic. */
export class AuthError extends GitHubError {
  override readonly exitCode = 8;
  override readonly retryable = false;
}

/** Primary or secondary rate limit that outlasted the client's own waiting. Never a PR's fault. */
export class RateLimitError extends GitHubError {
  constructor(
    message: string,
    status: number | undefined,
    /** When the limit resets, if the API said so. */
    readonly resetAt?: Date,
    options?: { cause?: unknown },
  ) {
    super(message, status, options);
  }
}

/** The request (or the server behind it) timed out: typical of GraphQL on huge PRs. */
export class TimeoutError extends GitHubError {}

/** 5xx after the client's own retries. */
export class ServerError extends GitHubError {}

/** 404, or a GraphQL NOT_FOUND: the PR (or repository) does not exist. */
export class NotFoundError extends GitHubError {
  override readonly retryable = false;
}

/** The body arrived but is not what the API promises (truncated JSON, missing fields). */
export class MalformedResponseError extends GitHubError {}

// Secrets registered here are replaced in every error message and log line, so a token can
// never leak through an exception text (octokit puts request headers in some errors).
const secrets = new Set<string>();

export function registerSecret(secret: string | undefined): void {
  if (secret && secret.length >= 4) secrets.add(secret);
}

export function redact(text: string): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join("***");
  // Tokens in URLs or headers that were never registered (e.g. from a remote URL).
  out = out.replace(/(gh[pousr]_[A-Za-z0-9]{8,})/g, "***");
  out = out.replace(/(authorization:\s*)(token|bearer)\s+\S+/gi, "$1$2 ***");
  out = out.replace(/(https?:\/\/)[^\s/@:]+(:[^\s/@]+)?@/g, "$1***@");
  return out;
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return redact(err.message);
  return redact(String(err));
}
