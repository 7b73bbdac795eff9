// Realistic webhook deliveries for the receiver's tests, its benchmark and `prstate demo`:
// payloads shaped like GitHub's (only the fields a receiver reads, plus the bulk a real one
// carries), bursts drawn the way a busy repository produces them (a few hot PRs take most
// events; CI events for fork PRs with an empty pull_requests list), and a client that signs
// and posts them as GitHub does.
import { randomUUID } from "node:crypto";
import { Agent, request } from "node:http";
import { signBody } from "./receiver-core.js";
import { seededRandom } from "../src/simulator/seeded-random.js";

export interface Delivery {
  deliveryId: string;
  event: string;
  payload: Record<string, unknown>;
}

export interface PayloadOptions {
  pr: number;
  headSha: string;
  repoId?: number;
  repository?: string;
  /** A fork PR: CI payloads then carry an empty pull_requests list, as GitHub sends them. */
  fork?: boolean;
}

const DEFAULT_REPO_ID = 659_441_424;
const DEFAULT_REPOSITORY = "leanprover-community/mathlib4";

/** A webhook payload for `event`/`action` about one PR. */
export function webhookPayload(event: string, action: string | undefined, o: PayloadOptions): Record<string, unknown> {
  const repoId = o.repoId ?? DEFAULT_REPO_ID;
  const repository = { id: repoId, full_name: o.repository ?? DEFAULT_REPOSITORY, private: false };
  const sender = { login: "user-001", type: "User" };
  const pullRequest = {
    number: o.pr,
    state: "open",
    title: `PR ${o.pr}`,
    body: "x".repeat(600),
    labels: [{ name: "t-combinatorics" }],
    head: { sha: o.headSha, ref: `user-001/branch-${o.pr}`, repo: { id: o.fork ? repoId + 1 : repoId } },
    base: { ref: "master", repo: { id: repoId } },
  };
  const prRef = { number: o.pr, head: { sha: o.headSha, ref: pullRequest.head.ref }, base: { ref: "master", repo: { id: repoId } } };
  const ci = (extra: Record<string, unknown>) => ({ head_sha: o.headSha, head_branch: pullRequest.head.ref, status: "completed", conclusion: "success", pull_requests: o.fork ? [] : [prRef], ...extra });
  const withAction = (rest: Record<string, unknown>) => ({ ...(action !== undefined ? { action } : {}), ...rest, repository, sender });
  switch (event) {
    case "pull_request":
    case "pull_request_target":
      return withAction({ number: o.pr, pull_request: pullRequest, ...(action === "edited" ? { changes: { title: { from: "old" } } } : {}) });
    case "pull_request_review":
      return withAction({ review: { id: o.pr * 10, state: "commented", body: "looks good" }, pull_request: pullRequest });
    case "pull_request_review_comment":
      return withAction({ comment: { id: o.pr * 11, body: "nit" }, pull_request: pullRequest });
    case "pull_request_review_thread":
      return withAction({ thread: { node_id: "PRRT_x" }, pull_request: pullRequest });
    case "issue_comment":
      return withAction({ issue: { number: o.pr, pull_request: { url: `https://api.github.com/repos/${repository.full_name}/pulls/${o.pr}` } }, comment: { id: o.pr * 12, body: "!bench" } });
    case "check_suite":
      return withAction({ check_suite: ci({ id: o.pr * 13, app: { slug: "github-actions" } }) });
    case "check_run":
      return withAction({ check_run: ci({ id: o.pr * 14, name: "Build", check_suite: { head_sha: o.headSha } }) });
    case "workflow_run":
      return withAction({ workflow_run: ci({ id: o.pr * 15, name: "continuous integration" }) });
    case "status":
      return withAction({ sha: o.headSha, state: "success", context: "bors", branches: [] });
    case "push":
      return withAction({ ref: `refs/heads/${pullRequest.head.ref}`, before: o.headSha, after: "f".repeat(40), forced: true });
    default:
      return withAction({});
  }
}

// Roughly the mix of a busy repository's PR events: CI dominates, then PR activity and reviews.
const MIX: [event: string, action: string | undefined, weight: number][] = [
  ["check_run", "completed", 30],
  ["check_suite", "completed", 10],
  ["workflow_run", "completed", 8],
  ["status", undefined, 6],
  ["pull_request", "synchronize", 10],
  ["pull_request", "labeled", 8],
  ["pull_request", "unlabeled", 4],
  ["pull_request", "edited", 3],
  ["pull_request", "opened", 2],
  ["pull_request_review", "submitted", 6],
  ["pull_request_review_comment", "created", 6],
  ["issue_comment", "created", 7],
];
const TOTAL = MIX.reduce((s, m) => s + m[2], 0);

export interface BurstOptions {
  events: number;
  prs: readonly number[];
  /** Head SHA of each PR (what its record's headRefOid holds). */
  headSha: (pr: number) => string;
  /** PRs from forks (their CI events carry no PR number). */
  forks?: ReadonlySet<number>;
  seed?: number;
}

/** A burst of deliveries over `prs`, with a skew (the first PRs are hotter) as in real traffic. */
export function generateBurst(o: BurstOptions): Delivery[] {
  const rnd = seededRandom(o.seed ?? 1);
  const out: Delivery[] = [];
  for (let i = 0; i < o.events; i++) {
    // Every PR gets at least one event (the burst touches exactly `prs`); the rest skewed.
    const pr = i < o.prs.length ? o.prs[i]! : o.prs[Math.floor(Math.pow(rnd(), 2) * o.prs.length)]!;
    let r = rnd() * TOTAL;
    let pick = MIX[0]!;
    for (const m of MIX) {
      if ((r -= m[2]) < 0) {
        pick = m;
        break;
      }
    }
    const [event, action] = pick;
    out.push({ deliveryId: randomUUID(), event, payload: webhookPayload(event, action, { pr, headSha: o.headSha(pr), fork: o.forks?.has(pr) ?? false }) });
  }
  return out;
}

/** A SHA-shaped stand-in for a PR's head commit (tests and demo without real records). */
export function fakeHeadSha(pr: number): string {
  return pr.toString(16).padStart(8, "0").repeat(5);
}

// Keep-alive connections, as GitHub's deliveries reuse them; node's fetch costs several
// times more per request on a busy machine, which a latency benchmark would mostly measure.
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

/** Posts one delivery as GitHub does (JSON body, event/delivery headers, signature when a secret is given). */
export function sendDelivery(url: string, d: Delivery, secret?: string): Promise<{ status: number; ms: number }> {
  const body = Buffer.from(JSON.stringify(d.payload));
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "content-length": String(body.length),
    "user-agent": "GitHub-Hookshot/prstate-test",
    "x-github-event": d.event,
    "x-github-delivery": d.deliveryId,
  };
  if (secret !== undefined) headers["x-hub-signature-256"] = signBody(secret, body);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", headers, agent }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}
