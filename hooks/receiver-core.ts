// The webhook receiver's decision for one delivery, independent of the HTTP server (the
// server adapts node's request to `DeliveryRequest`, as octokit/webhooks.js does for its
// middlewares). Order of checks, each cheaper than the next:
//   400 missing/odd X-GitHub-Event or X-GitHub-Delivery (no body is read)
//   413 body over the cap (Content-Length first, then while reading)
//   401 signature absent, of another algorithm, or wrong, while a secret is set
//   400 body not JSON (application/json, or the form encoding GitHub also offers)
//   204 ping, unsubscribed event, or an event that can never name a PR (comment on an issue)
//   202 only once the event is durably in the spool
//   503 when storing failed or did not finish within the acknowledgement budget: GitHub then
//       records a failed delivery that `prstate redeliver` asks it to send again; a store that
//       completes late is harmless, the redelivery has the same id and is stored once.
import { createHmac, timingSafeEqual } from "node:crypto";
import { errorMessage, InputError } from "../src/errors.js";
import { reducePayload, screenEvent } from "../src/intake/event-to-work.js";
import type { Spool } from "./spool.js";
import { isSubscribed, type Subscription } from "./subscription.js";

export interface DeliveryRequest {
  /** The raw body; rejects with BodyTooLargeError past `limit` bytes. */
  readBody(limit: number): Promise<Buffer>;
  /** A request header (names are passed lowercase). */
  header(name: string): string | undefined;
}

export interface ReceiverDeps {
  /** Webhook secret; when set, every delivery must carry a valid X-Hub-Signature-256. */
  secret?: string;
  subscription: Subscription;
  spool: Spool;
  maxBodyBytes: number;
  /**
   * Time from the request reaching the handler (body receipt included, as GitHub's own 10 s
   * clock runs from the request) until the store must have finished; later = 503, not 202.
   */
  ackBudgetMs: number;
  /** One line per delivery (never the payload, never the secret). */
  log?: (line: string) => void;
  now?: () => Date;
}

export interface DeliveryResponse {
  status: number;
  body: string;
}

/** readBody's rejection when the body exceeds the cap. */
export class BodyTooLargeError extends InputError {}

/** GitHub caps webhook payloads at 25 MB. */
export const DEFAULT_MAX_BODY_BYTES = 25 * 1024 * 1024;
/** Half of GitHub's 10 s: leaves room for the network and a slow client on GitHub's side. */
export const DEFAULT_ACK_BUDGET_MS = 5000;

const EVENT_RE = /^[a-z_]{1,64}$/;
const DELIVERY_RE = /^[\x21-\x7e]{1,200}$/;
const SIGNATURE_RE = /^sha256=([0-9a-fA-F]{64})$/;

/** Constant-time check of `X-Hub-Signature-256: sha256=<hex HMAC of the raw body>`. */
export function verifySignature(secret: string, body: Buffer, header: string | undefined): boolean {
  const m = header === undefined ? null : SIGNATURE_RE.exec(header.trim());
  if (!m) return false;
  const expected = createHmac("sha256", secret).update(body).digest();
  const given = Buffer.from(m[1]!, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The header value for a body, as GitHub computes it (used by tests, the bench and the demo). */
export function signBody(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

function parseBody(body: Buffer, contentType: string | undefined): unknown {
  let text = body.toString("utf8");
  // GitHub's other content type: the JSON travels as the `payload` form field.
  if (contentType !== undefined && /^application\/x-www-form-urlencoded\b/i.test(contentType)) {
    const field = new URLSearchParams(text).get("payload");
    if (field === null) throw new InputError("form body without a payload field");
    text = field;
  }
  return JSON.parse(text);
}

type Outcome = "stored" | "duplicate" | "timeout";

/** Races the store against the budget; the store keeps running when the budget wins. */
function storeWithin(write: Promise<"stored" | "duplicate">, budgetMs: number): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => resolve("timeout"), Math.max(0, budgetMs));
  });
  return Promise.race([write, timeout]).finally(() => clearTimeout(timer));
}

export async function handleDelivery(req: DeliveryRequest, deps: ReceiverDeps): Promise<DeliveryResponse> {
  const started = Date.now();
  const now = deps.now ?? (() => new Date());
  const log = deps.log ?? (() => undefined);
  const event = req.header("x-github-event")?.trim();
  const deliveryId = req.header("x-github-delivery")?.trim();
  const tag = `${deliveryId && DELIVERY_RE.test(deliveryId) ? deliveryId : "-"} ${event && EVENT_RE.test(event) ? event : "-"}`;
  const answer = (status: number, body: string, note = body): DeliveryResponse => {
    log(`${status} ${tag} ${note}`);
    return { status, body };
  };

  if (!event || !EVENT_RE.test(event)) return answer(400, "missing or invalid X-GitHub-Event header");
  if (!deliveryId || !DELIVERY_RE.test(deliveryId)) return answer(400, "missing or invalid X-GitHub-Delivery header");

  const declared = Number(req.header("content-length"));
  if (Number.isFinite(declared) && declared > deps.maxBodyBytes) return answer(413, `body over ${deps.maxBodyBytes} bytes`);
  let body: Buffer;
  try {
    body = await req.readBody(deps.maxBodyBytes);
  } catch (err) {
    if (err instanceof BodyTooLargeError) return answer(413, `body over ${deps.maxBodyBytes} bytes`);
    return answer(400, "could not read the body", `could not read the body: ${errorMessage(err)}`);
  }

  if (deps.secret !== undefined && !verifySignature(deps.secret, body, req.header("x-hub-signature-256"))) {
    const given = req.header("x-hub-signature-256");
    const why = given === undefined ? (req.header("x-hub-signature") !== undefined ? "only a sha1 signature" : "no signature") : SIGNATURE_RE.test(given.trim()) ? "signature mismatch" : "not a sha256= signature";
    return answer(401, "invalid signature", `invalid signature (${why})`);
  }

  let payload: unknown;
  try {
    payload = parseBody(body, req.header("content-type"));
  } catch {
    return answer(400, "body is not JSON");
  }
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return answer(400, "body is not a JSON object");
  const rawAction = (payload as Record<string, unknown>).action;
  const action = typeof rawAction === "string" && rawAction !== "" ? rawAction : undefined;
  const key = action ? `${event}.${action}` : event;

  if (event === "ping") return answer(204, "", "ping");
  if (!isSubscribed(deps.subscription, event, action)) return answer(204, "", `${key} not subscribed`);
  const pointless = screenEvent(event, payload);
  if (pointless !== undefined) return answer(204, "", `ignored: ${pointless}`);

  const spooled = { deliveryId, event, ...(action ? { action } : {}), receivedAt: now().toISOString(), payload: reducePayload(event, payload) };
  const write = deps.spool.write(spooled);
  let outcome: Outcome;
  try {
    outcome = await storeWithin(write, deps.ackBudgetMs - (Date.now() - started));
  } catch (err) {
    return answer(503, "could not store the delivery; redeliver it", `store failed: ${errorMessage(err)}`);
  }
  if (outcome === "timeout") {
    // Not stored yet: never claim otherwise. The late result is only logged.
    write.then(
      (r) => log(`late ${tag} ${key} ${r} after ${Date.now() - started} ms`),
      (err) => log(`late ${tag} ${key} store failed: ${errorMessage(err)}`),
    );
    return answer(503, "storage too slow; redeliver this delivery", `${key} not stored within ${deps.ackBudgetMs} ms`);
  }
  return answer(202, outcome === "stored" ? "accepted" : "accepted (duplicate delivery, stored once)", `${key} ${outcome}`);
}
