// The repository's webhooks and their recent deliveries, as GitHub's hook deliveries API
// shows them. GitHub never redelivers a failed delivery by itself; `prstate redeliver`
// lists them and asks for each failed one, and this records what was asked.
import { randomUUID } from "node:crypto";

export const DEFAULT_HOOK_EVENTS = [
  "pull_request",
  "pull_request_review",
  "pull_request_review_comment",
  "pull_request_review_thread",
  "issue_comment",
  "check_suite",
  "check_run",
  "workflow_run",
  "status",
  "push",
];

export interface SimHook {
  id: number;
  name: "web";
  active: boolean;
  events: string[];
  config: { url: string; content_type: "json"; insecure_ssl: "0" };
  created_at: string;
  updated_at: string;
}

/** A delivery as `GET .../hooks/{id}/deliveries` lists it. */
export interface SimDelivery {
  id: number;
  guid: string;
  delivered_at: string;
  redelivery: boolean;
  duration: number;
  status: string;
  status_code: number;
  event: string;
  action: string | null;
  installation_id: null;
  repository_id: number;
  throttled_at: null;
}

export interface NewDelivery {
  event: string;
  action?: string | null;
  /** Receiver's answer; 0 = could not connect. Default 202. */
  statusCode?: number;
  deliveredAt?: string;
  redelivery?: boolean;
  guid?: string;
}

export class WebhookDeliveries {
  private readonly hookList: SimHook[] = [];
  private readonly byHook = new Map<number, SimDelivery[]>();
  private nextId = 90_000_000_001;
  /** Every redelivery GitHub was asked for, in order. */
  readonly redeliveryRequests: { hookId: number; deliveryId: number }[] = [];
  /** What a redelivery's receiver answers (0 = unreachable). */
  redeliveryStatusCode = 202;

  constructor(private readonly now: () => number) {}

  addHook(events: string[] = DEFAULT_HOOK_EVENTS, url = "https://dashboard.example.invalid/webhook"): SimHook {
    const id = 400_000_000 + this.hookList.length + 1;
    const at = new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, "Z");
    const hook: SimHook = { id, name: "web", active: true, events, config: { url, content_type: "json", insecure_ssl: "0" }, created_at: at, updated_at: at };
    this.hookList.push(hook);
    this.byHook.set(id, []);
    return hook;
  }

  hooks(): SimHook[] {
    return this.hookList.map((h) => ({ ...h, events: [...h.events], config: { ...h.config } }));
  }

  hasHook(hookId: number): boolean {
    return this.byHook.has(hookId);
  }

  add(hookId: number, d: NewDelivery): SimDelivery {
    const list = this.byHook.get(hookId);
    if (!list) throw new Error(`no hook ${hookId}`);
    const code = d.statusCode ?? 202;
    const delivery: SimDelivery = {
      id: this.nextId++,
      guid: d.guid ?? randomUUID(),
      delivered_at: d.deliveredAt ?? new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, "Z"),
      redelivery: d.redelivery ?? false,
      duration: 0.1,
      status: statusText(code),
      status_code: code,
      event: d.event,
      action: d.action ?? null,
      installation_id: null,
      repository_id: 1,
      throttled_at: null,
    };
    list.push(delivery);
    return { ...delivery };
  }

  /** Newest first, like GitHub. */
  list(hookId: number): SimDelivery[] | undefined {
    const list = this.byHook.get(hookId);
    return list && [...list].reverse().map((d) => ({ ...d }));
  }

  /** Records the request and adds the redelivery attempt; undefined when there is no such delivery. */
  redeliver(hookId: number, deliveryId: number): SimDelivery | undefined {
    const original = this.byHook.get(hookId)?.find((d) => d.id === deliveryId);
    if (!original) return undefined;
    this.redeliveryRequests.push({ hookId, deliveryId });
    return this.add(hookId, { event: original.event, action: original.action, guid: original.guid, redelivery: true, statusCode: this.redeliveryStatusCode });
  }
}

function statusText(code: number): string {
  if (code === 0) return "failed to connect to host";
  if (code >= 200 && code < 300) return "OK";
  return `Invalid HTTP Response: ${code}`;
}
