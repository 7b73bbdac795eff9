// Per-PR exponential backoff from the attempt files (DESIGN section 3): after k failed
// attempts the PR waits base * 2^(k-1), capped, from its latest attempt. Pure, and computed
// from the files alone, so every writer agrees on when a PR is due; the jitter that keeps a
// batch of PRs that failed together (a 502 storm) from retrying in lockstep is derived from
// the PR number and k, not drawn at random, for the same reason.
import type { Config } from "../config/config.js";
import type { AttemptFacts } from "./pr-facts.js";

/** The jitter takes up to this fraction off a delay (so a delay never exceeds the cap). */
export const JITTER = 0.2;

// FNV-1a over the decimal text: cheap, stable across runs and platforms.
function hashFraction(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h / 2 ** 32;
}

/** The wait after the k-th failed attempt of PR `pr`, in milliseconds (0 for k <= 0). */
export function backoffDelayMs(k: number, cfg: Config, pr: number): number {
  if (k <= 0) return 0;
  const base = cfg.thresholds.backoffBaseSeconds * 1000;
  const cap = cfg.thresholds.backoffCapSeconds * 1000;
  // 2^(k-1) overflows nothing below k = 1024; the cap applies long before that.
  const raw = Math.min(cap, base * 2 ** Math.min(k - 1, 60));
  return Math.round(raw * (1 - JITTER * hashFraction(`${pr}:${k}`)));
}

/** Time of the latest attempt that has a readable time, in ms since the epoch. */
export function latestAttemptMs(attempts: readonly AttemptFacts[]): number | undefined {
  let latest: number | undefined;
  for (const a of attempts) {
    const t = Date.parse(a.at);
    if (!Number.isNaN(t) && (latest === undefined || t > latest)) latest = t;
  }
  return latest;
}

/**
 * When PR `pr` may be tried again; undefined when it may be tried now (no attempts, or none
 * with a readable time: a legacy comment's attempt never holds a PR back).
 */
export function nextDueAt(attempts: readonly AttemptFacts[], cfg: Config, pr: number): Date | undefined {
  if (attempts.length === 0) return undefined;
  const last = latestAttemptMs(attempts);
  if (last === undefined) return undefined;
  return new Date(last + backoffDelayMs(attempts.length, cfg, pr));
}

export function isDue(attempts: readonly AttemptFacts[], cfg: Config, pr: number, now: Date): boolean {
  const due = nextDueAt(attempts, cfg, pr);
  return due === undefined || due.getTime() <= now.getTime();
}
