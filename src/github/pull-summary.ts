// Maps REST pull objects (and webhook delivery objects) to prstate's small summaries,
// refusing items that lack the fields polling and integrity checks rely on. Pure: no I/O.
import { MalformedResponseError } from "../errors.js";
import type { HookDelivery, PullSummary } from "./github.js";

type Obj = Record<string, unknown>;

export function toPullSummary(item: unknown, context: string): PullSummary {
  const p = asObject(item, context, "pull");
  const number = p.number;
  const head = p.head as Obj | null | undefined;
  const base = p.base as Obj | null | undefined;
  const updatedAt = p.updated_at;
  if (typeof number !== "number" || !Number.isInteger(number) || number <= 0) bad(context, "pull without a number");
  if (typeof updatedAt !== "string" || Number.isNaN(Date.parse(updatedAt))) bad(context, `pull #${number} without updated_at`);
  if (p.state !== "open" && p.state !== "closed") bad(context, `pull #${number} with state ${JSON.stringify(p.state)}`);
  if (typeof head?.sha !== "string") bad(context, `pull #${number} without head.sha`);
  const labels = Array.isArray(p.labels) ? p.labels : [];
  return {
    number,
    state: p.state,
    updatedAt,
    headSha: head.sha,
    draft: p.draft === true,
    title: typeof p.title === "string" ? p.title : "",
    labels: labels.map((l) => (typeof (l as Obj | null)?.name === "string" ? ((l as Obj).name as string) : "")).filter(Boolean),
    baseRef: typeof base?.ref === "string" ? base.ref : "",
    merged: typeof p.merged_at === "string" || p.merged === true,
  };
}

export function toHookDelivery(item: unknown, context: string): HookDelivery {
  const d = asObject(item, context, "delivery");
  if (typeof d.id !== "number") bad(context, "delivery without an id");
  return {
    id: d.id,
    guid: typeof d.guid === "string" ? d.guid : "",
    deliveredAt: typeof d.delivered_at === "string" ? d.delivered_at : "",
    status: typeof d.status === "string" ? d.status : "",
    statusCode: typeof d.status_code === "number" ? d.status_code : 0,
    event: typeof d.event === "string" ? d.event : "",
    action: typeof d.action === "string" ? d.action : null,
    redelivery: d.redelivery === true,
  };
}

/** A page of a REST listing must be a JSON array; a cut-off body arrives as a string. */
export function asArray(data: unknown, context: string): unknown[] {
  if (!Array.isArray(data)) {
    throw new MalformedResponseError(
      `${context}: expected a JSON array, got ${typeof data === "string" ? "unparseable text (truncated?)" : typeof data}`,
    );
  }
  return data;
}

function asObject(item: unknown, context: string, what: string): Obj {
  if (typeof item !== "object" || item === null || Array.isArray(item)) bad(context, `${what} is not an object`);
  return item as Obj;
}

function bad(context: string, what: string): never {
  throw new MalformedResponseError(`${context}: ${what}`);
}
