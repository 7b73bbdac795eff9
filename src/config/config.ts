// prstate.yaml: the data repo's configuration (DESIGN section 10). Unknown keys and bad
// values are ConfigErrors that name the key, so a typo never silently falls back to a default.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { ConfigError } from "../errors.js";
import { CONFIG_FILE } from "../layout.js";

export interface Thresholds {
  /** Failed attempts before a missing PR becomes stubborn. */
  attemptsMissing: number;
  /** Failed attempts before an outdated (re-download) PR becomes stubborn. */
  attemptsRedownload: number;
  /** Per-PR exponential backoff: base and cap, in seconds. */
  backoffBaseSeconds: number;
  backoffCapSeconds: number;
  /** How far a record may lag GitHub's updatedAt before the integrity check re-queues it. */
  allowedDelayMinutes: number;
  /** CI recorded as running for longer than this is re-downloaded. */
  ciStaleMinutes: number;
  /** Webhook events of one PR within this window coalesce; the last one wins. */
  debounceSeconds: number;
  /** Stop the cycle when this many API points/requests are left. */
  rateLimitReserve: number;
  /** Hours between paranoid checks, and between stubborn retries. */
  paranoidEveryHours: number;
  stubbornRetryEveryHours: number;
  /** How many stubborn PRs the periodic retry tries with the full query. */
  stubbornRetryCount: number;
}

export interface Budget {
  /** Most PR downloads in one cycle. */
  maxDownloads: number;
  /** Wall-clock budget of one cycle, in seconds. */
  maxSeconds: number;
  /** Guaranteed share of maxDownloads per class (fractions, summing to at most 1). */
  shares: { events: number; integrity: number; missing: number; stubborn: number; backfill: number };
}

export interface Config {
  /** OWNER/NAME of the tracked repository (may be absent in the file; --repository overrides). */
  repository?: string;
  /** Branch of the data repo; undefined = the current branch. */
  branch?: string;
  thresholds: Thresholds;
  budget: Budget;
  /** Webhook subscription: minimatch patterns over `event.action` (`!` negates). Undefined = defaults. */
  webhooks?: string[];
}

export const DEFAULT_CONFIG: Config = {
  thresholds: {
    attemptsMissing: 3,
    attemptsRedownload: 5,
    backoffBaseSeconds: 300,
    backoffCapSeconds: 6 * 3600,
    allowedDelayMinutes: 30,
    ciStaleMinutes: 240,
    debounceSeconds: 60,
    rateLimitReserve: 100,
    paranoidEveryHours: 24,
    stubbornRetryEveryHours: 24,
    stubbornRetryCount: 3,
  },
  budget: {
    maxDownloads: 100,
    maxSeconds: 600,
    shares: { events: 0.35, integrity: 0.2, missing: 0.2, stubborn: 0.1, backfill: 0.15 },
  },
};

type Checker = (value: unknown, key: string) => unknown;

// Far above any sensible value, far below where a number stops being exact.
const MAX_SETTING = 1e9;
const positiveInt: Checker = (v, key) => {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > MAX_SETTING) throw new ConfigError(`${key}: expected a whole number from 1 to ${MAX_SETTING}, got ${JSON.stringify(v)}`);
  return v;
};
const nonNegative: Checker = (v, key) => {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || v > MAX_SETTING) throw new ConfigError(`${key}: expected a number from 0 to ${MAX_SETTING}, got ${JSON.stringify(v)}`);
  return v;
};
const fraction: Checker = (v, key) => {
  if (typeof v !== "number" || !(v >= 0 && v <= 1)) throw new ConfigError(`${key}: expected a fraction between 0 and 1, got ${JSON.stringify(v)}`);
  return v;
};

export function parseRepository(v: unknown, key = "repository"): string {
  if (typeof v !== "string" || !/^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/.test(v) || v.includes("..")) {
    throw new ConfigError(`${key}: expected OWNER/NAME, got ${JSON.stringify(v)}`);
  }
  return v;
}

const THRESHOLD_CHECKS: Record<keyof Thresholds, Checker> = {
  attemptsMissing: positiveInt,
  attemptsRedownload: positiveInt,
  backoffBaseSeconds: nonNegative,
  backoffCapSeconds: nonNegative,
  allowedDelayMinutes: nonNegative,
  ciStaleMinutes: nonNegative,
  debounceSeconds: nonNegative,
  rateLimitReserve: nonNegative,
  paranoidEveryHours: nonNegative,
  stubbornRetryEveryHours: nonNegative,
  stubbornRetryCount: nonNegative,
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function section<T extends object>(raw: unknown, key: string, defaults: T, checks: Record<string, Checker>): T {
  if (raw === undefined || raw === null) return { ...defaults };
  if (!isObject(raw)) throw new ConfigError(`${key}: expected a mapping`);
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [k, v] of Object.entries(raw)) {
    const check = checks[k];
    if (!check) throw new ConfigError(`${key}.${k}: unknown key`);
    out[k] = check(v, `${key}.${k}`);
  }
  return out as T;
}

/** Validates a parsed prstate.yaml document (already-parsed YAML/JSON value). */
export function parseConfig(doc: unknown): Config {
  if (doc === undefined || doc === null) doc = {};
  if (!isObject(doc)) throw new ConfigError(`${CONFIG_FILE}: expected a mapping at the top level`);
  const known = new Set(["repository", "branch", "thresholds", "budget", "webhooks"]);
  for (const k of Object.keys(doc)) if (!known.has(k)) throw new ConfigError(`${k}: unknown key`);
  const cfg: Config = {
    thresholds: section(doc.thresholds, "thresholds", DEFAULT_CONFIG.thresholds, THRESHOLD_CHECKS),
    budget: { ...DEFAULT_CONFIG.budget, shares: { ...DEFAULT_CONFIG.budget.shares } },
  };
  if (cfg.thresholds.backoffCapSeconds < cfg.thresholds.backoffBaseSeconds) {
    throw new ConfigError(`thresholds.backoffCapSeconds: ${cfg.thresholds.backoffCapSeconds} is below thresholds.backoffBaseSeconds (${cfg.thresholds.backoffBaseSeconds})`);
  }
  if (doc.repository !== undefined) cfg.repository = parseRepository(doc.repository);
  if (doc.branch !== undefined) {
    if (typeof doc.branch !== "string" || !/^[A-Za-z0-9._\/-]+$/.test(doc.branch)) throw new ConfigError(`branch: expected a branch name`);
    cfg.branch = doc.branch;
  }
  if (doc.budget !== undefined) {
    if (!isObject(doc.budget)) throw new ConfigError(`budget: expected a mapping`);
    const { shares, ...rest } = doc.budget;
    Object.assign(cfg.budget, section(rest, "budget", { maxDownloads: cfg.budget.maxDownloads, maxSeconds: cfg.budget.maxSeconds }, { maxDownloads: positiveInt, maxSeconds: positiveInt }));
    if (shares !== undefined) {
      const f = fraction;
      cfg.budget.shares = section(shares, "budget.shares", cfg.budget.shares, { events: f, integrity: f, missing: f, stubborn: f, backfill: f });
      const sum = Object.values(cfg.budget.shares).reduce((a, b) => a + b, 0);
      if (sum > 1.0001) {
        const given = Object.keys(shares as object);
        const defaults = Object.keys(cfg.budget.shares).filter((k) => !given.includes(k));
        throw new ConfigError(`budget.shares: the shares add up to ${sum.toFixed(2)}, more than 1${defaults.length > 0 ? ` (with the defaults of ${defaults.join(", ")})` : ""}`);
      }
    }
  }
  if (doc.webhooks !== undefined) {
    if (!Array.isArray(doc.webhooks) || !doc.webhooks.every((p) => typeof p === "string" && p.trim() !== "")) {
      throw new ConfigError(`webhooks: expected a list of minimatch patterns`);
    }
    cfg.webhooks = doc.webhooks as string[];
  }
  return cfg;
}

/** Reads DIR/prstate.yaml; a missing file means all defaults. */
export async function loadConfig(repoDir: string): Promise<Config> {
  let text: string;
  try {
    text = await readFile(join(repoDir, CONFIG_FILE), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return parseConfig({});
    throw new ConfigError(`${CONFIG_FILE}: cannot read: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${CONFIG_FILE}: not valid YAML: ${(err as Error).message.split("\n")[0]!.replace(/:\s*$/, "")}`);
  }
  return parseConfig(doc);
}
