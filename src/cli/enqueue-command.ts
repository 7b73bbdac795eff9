// `prstate enqueue`: the Actions intake, plus what the CLI adds around it: the head-SHA
// index (only built when the event is a CI event that names no PR, because it reads every
// record) and staging the queue files so `prstate push` publishes them.
import { readFile } from "node:fs/promises";
import { InputError } from "../errors.js";
import { stagePaths } from "../git/git-cli.js";
import { headShaIndex, scanRepo } from "../store/repo-scan.js";
import { enqueueFromActions, type EnqueueResult } from "../../hooks/actions-adapter.js";

const CI_EVENTS = new Set(["check_suite", "check_run", "workflow_run", "status"]);

function namesNoPr(event: string, payload: Record<string, unknown>): boolean {
  if (!CI_EVENTS.has(event)) return false;
  const inner = (payload[event] ?? payload) as Record<string, unknown>;
  const prs = inner?.pull_requests;
  return !Array.isArray(prs) || prs.length === 0;
}

export async function enqueueForRepo(repo: string, input: { event: string; payloadPath: string; deliveryId?: string }): Promise<EnqueueResult> {
  let payload: unknown;
  try {
    payload = JSON.parse(await readFile(input.payloadPath, "utf8"));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(code ? `cannot read the event payload ${input.payloadPath}: ${code}` : `event payload ${input.payloadPath} is not JSON`);
  }
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) throw new InputError("the event payload is not a JSON object");
  const shaIndex = namesNoPr(input.event, payload as Record<string, unknown>) ? headShaIndex(await scanRepo(repo)) : new Map<string, number>();
  const res = await enqueueFromActions(repo, { event: input.event, payload, shaIndex, ...(input.deliveryId ? { deliveryId: input.deliveryId } : {}) });
  if (res.queued.length > 0) await stagePaths(repo, res.queued);
  return res;
}
