// Which webhook events prstate accepts: an ordered list of minimatch patterns over
// `<event>.<action>` (DESIGN 6.1), shipped as hooks/default-subscription.yaml and
// replaceable with `webhooks:` in prstate.yaml. The last matching pattern decides, as in
// .gitignore, so `pull_request.*` followed by `!pull_request.locked` reads naturally.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Minimatch } from "minimatch";
import { parse as parseYaml } from "yaml";
import { ConfigError } from "../src/errors.js";
import { HANDLED_EVENTS } from "../src/intake/event-to-work.js";

export interface SubscriptionRule {
  pattern: string;
  negate: boolean;
  re: RegExp;
}

export interface Subscription {
  /** The patterns as given, for display (`prstate serve` prints them at start). */
  readonly patterns: readonly string[];
  readonly rules: readonly SubscriptionRule[];
}

export const DEFAULT_SUBSCRIPTION_FILE = "default-subscription.yaml";

// Actions GitHub documents for the events prstate handles. Used only to tell a typo
// (`pull_reqest.*`, `check_suit.completed`) from a real pattern: a pattern must match at
// least one of these keys, or name a handled event before its first `.` (so an action
// GitHub adds later can still be subscribed without a prstate release).
const KNOWN_ACTIONS: Record<string, readonly string[]> = {
  pull_request: [
    "assigned", "auto_merge_disabled", "auto_merge_enabled", "closed", "converted_to_draft", "demilestoned",
    "dequeued", "edited", "enqueued", "labeled", "locked", "milestoned", "opened", "ready_for_review", "reopened",
    "review_request_removed", "review_requested", "synchronize", "unassigned", "unlabeled", "unlocked",
  ],
  pull_request_review: ["submitted", "edited", "dismissed"],
  pull_request_review_comment: ["created", "edited", "deleted"],
  pull_request_review_thread: ["resolved", "unresolved"],
  issue_comment: ["created", "edited", "deleted"],
  check_suite: ["completed", "requested", "rerequested"],
  check_run: ["created", "completed", "rerequested", "requested_action"],
  workflow_run: ["requested", "in_progress", "completed"],
};

const CANDIDATE_KEYS: string[] = (() => {
  const keys: string[] = [];
  for (const ev of HANDLED_EVENTS) {
    keys.push(ev);
    const actions = KNOWN_ACTIONS[ev === "pull_request_target" ? "pull_request" : ev] ?? [];
    for (const a of actions) keys.push(`${ev}.${a}`);
  }
  return keys;
})();

const HANDLED = new Set<string>(HANDLED_EVENTS);

// Event names and actions are [a-z_]; the rest is glob syntax. No `/`: keys have no segments.
const PATTERN_CHARS = /^[A-Za-z0-9_.*?[\]{},!|@+()-]+$/;

function compileRule(raw: unknown, where: string): SubscriptionRule {
  if (typeof raw !== "string" || raw.trim() === "") throw new ConfigError(`${where}: webhook pattern must be a non-empty string, got ${JSON.stringify(raw)}`);
  const pattern = raw.trim();
  const negate = pattern.startsWith("!");
  const body = negate ? pattern.slice(1) : pattern;
  const bad = (why: string) => new ConfigError(`${where}: invalid webhook pattern ${JSON.stringify(pattern)}: ${why}`);
  if (body === "" || body.startsWith("!")) throw bad("a single leading `!` negates, followed by a pattern");
  if (!PATTERN_CHARS.test(body)) throw bad("only event/action names and glob characters are allowed");
  const re = new Minimatch(body, { nonegate: true, nocomment: true, dot: true }).makeRe();
  if (re === false) throw bad("not a valid minimatch pattern");
  const prefix = /^([a-z_]+)\./.exec(body)?.[1];
  if (!CANDIDATE_KEYS.some((k) => re.test(k)) && !(prefix !== undefined && HANDLED.has(prefix))) {
    throw bad(`matches no event prstate handles (${HANDLED_EVENTS.join(", ")})`);
  }
  return { pattern, negate, re };
}

/** Where the shipped defaults live: next to this file in the source tree, or two levels up from dist/hooks/. */
function defaultSubscriptionPath(): string {
  const candidates = [new URL(`./${DEFAULT_SUBSCRIPTION_FILE}`, import.meta.url), new URL(`../../hooks/${DEFAULT_SUBSCRIPTION_FILE}`, import.meta.url)];
  for (const c of candidates) {
    const path = fileURLToPath(c);
    if (existsSync(path)) return path;
  }
  throw new ConfigError(`cannot find the default webhook subscription (${DEFAULT_SUBSCRIPTION_FILE})`);
}

function readDefaultPatterns(): unknown[] {
  const path = defaultSubscriptionPath();
  const doc: unknown = parseYaml(readFileSync(path, "utf8"));
  if (!Array.isArray(doc)) throw new ConfigError(`${path}: expected a YAML list of patterns`);
  return doc;
}

/**
 * Compiles a subscription. `patterns` undefined = the shipped defaults (config key `webhooks`
 * absent); an empty list subscribes to nothing. An invalid pattern is a ConfigError naming it.
 */
export function loadSubscription(patterns?: readonly string[]): Subscription {
  const raw: readonly unknown[] = patterns ?? readDefaultPatterns();
  const where = patterns ? "webhooks" : DEFAULT_SUBSCRIPTION_FILE;
  const rules = raw.map((p, i) => compileRule(p, `${where}[${i}]`));
  return { patterns: rules.map((r) => r.pattern), rules };
}

/** True when the last rule matching `<event>.<action>` (or `<event>` without action) is not a negation. */
export function isSubscribed(sub: Subscription, event: string, action?: string): boolean {
  const key = action ? `${event}.${action}` : event;
  let subscribed = false;
  for (const rule of sub.rules) if (rule.re.test(key)) subscribed = !rule.negate;
  return subscribed;
}
