// `prstate enqueue`: the webhook intake for GitHub Actions. A workflow triggered by
// `repository_dispatch` (client_payload {pr} or {prs}), `pull_request_target`, `workflow_run`,
// `workflow_dispatch` (inputs pr/prs) or any webhook-shaped event hands its event payload
// (GITHUB_EVENT_PATH) to this, which writes `state/queue/N/<id>.json` into the data repo
// checkout, to be committed and handled by `sync` like a webhook delivery.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { InputError } from "../src/errors.js";
import { mapEvent } from "../src/intake/event-to-work.js";
import { enqueueEvent } from "../src/intake/queue-store.js";

export interface ActionsEventInput {
  /** The event name (GITHUB_EVENT_NAME). */
  event: string;
  /** Path of the event payload JSON (GITHUB_EVENT_PATH); or pass `payload`. */
  payloadPath?: string;
  payload?: unknown;
  /** Default: a stable hash of event + payload (see actionsDeliveryId). */
  deliveryId?: string;
  /** Head SHA -> PR, for CI events with an empty pull_requests list (fork PRs). Default: empty. */
  shaIndex?: ReadonlyMap<string, number>;
  now?: Date;
}

export interface EnqueueResult {
  deliveryId: string;
  /** Queue files written (repo-relative). */
  queued: string[];
  /** Queue files that were already there (the same event enqueued before). */
  duplicates: string[];
  /** Why nothing was queued, when nothing was. Not an error: events are hints. */
  ignored?: string;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * The default delivery id: a hash of the event name and the payload's canonical JSON. A
 * re-run of the same workflow run (same payload) therefore enqueues the same file again,
 * which is stored once; GITHUB_RUN_ID is not used because a re-run attempt would change it.
 */
export function actionsDeliveryId(event: string, payload: unknown): string {
  return `gha-${event}-${createHash("sha256").update(`${event}\n${canonicalJson(payload)}`).digest("hex").slice(0, 32)}`;
}

async function readPayload(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new InputError(`cannot read the event payload ${path}: ${(err as NodeJS.ErrnoException).code ?? "error"}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new InputError(`event payload ${path} is not JSON`);
  }
}

export async function enqueueFromActions(repo: string, input: ActionsEventInput): Promise<EnqueueResult> {
  if (typeof input.event !== "string" || !/^[a-z_]{1,64}$/.test(input.event)) throw new InputError(`not an event name: ${JSON.stringify(input.event).slice(0, 60)}`);
  let payload = input.payload;
  if (payload === undefined) {
    if (input.payloadPath === undefined) throw new InputError("an event payload is needed (a payload file or value)");
    payload = await readPayload(input.payloadPath);
  }
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) throw new InputError("the event payload is not a JSON object");
  const event = input.event;
  const deliveryId = input.deliveryId ?? actionsDeliveryId(event, payload);
  const result: EnqueueResult = { deliveryId, queued: [], duplicates: [] };

  const work = mapEvent(event, payload, input.shaIndex ?? new Map());
  if ("ignored" in work) return { ...result, ignored: work.ignored };
  const rawAction = (payload as Record<string, unknown>).action;
  const action = typeof rawAction === "string" && /^[A-Za-z0-9_.-]{1,100}$/.test(rawAction) ? rawAction : undefined;
  const receivedAt = (input.now ?? new Date()).toISOString();
  for (const pr of work.prs) {
    const { path, stored } = await enqueueEvent(repo, {
      deliveryId,
      event,
      ...(action !== undefined ? { action } : {}),
      receivedAt,
      pr,
      kind: work.kind,
      ...(work.shas[0] !== undefined ? { sha: work.shas[0] } : {}),
    });
    (stored ? result.queued : result.duplicates).push(path);
  }
  return result;
}
