// `state/checks.json`: when each periodic job (paranoid check, stubborn retry) last ran, as
// {jobName: ISO time}. Keys are written sorted and a job's time only moves forward, so two
// writers that record the same job produce the same file and the merge ("newest wins") agrees.
import { join } from "node:path";
import { DataError, InputError } from "../errors.js";
import { CHECKS_FILE } from "../layout.js";
import { writeFileAtomic } from "./atomic-write.js";
import { formatJson, isPlainObject, readJsonFile } from "./json-file.js";
import { isoSeconds } from "./timestamp-file.js";

export type ChecksFile = Record<string, string>;

const JOB_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** Every job's last run; {} when the file does not exist. DataError when it is malformed. */
export async function readChecks(repo: string): Promise<ChecksFile> {
  const doc = await readJsonFile(join(repo, CHECKS_FILE), CHECKS_FILE);
  if (doc === undefined) return {};
  if (!isPlainObject(doc)) throw new DataError(`${CHECKS_FILE}: expected {"job": ISO time, ...}`);
  const out: ChecksFile = {};
  for (const [job, at] of Object.entries(doc)) {
    if (typeof at !== "string" || Number.isNaN(Date.parse(at))) throw new DataError(`${CHECKS_FILE}: "${job.slice(0, 64)}" is not an ISO time`);
    out[job] = isoSeconds(at);
  }
  return out;
}

/**
 * Records that `job` ran at `at` (kept if the stored time is newer). Returns the file's new
 * content. A malformed stored file is replaced by one holding this job only.
 */
export async function recordCheckRun(repo: string, job: string, at: Date | string): Promise<ChecksFile> {
  if (!JOB_NAME.test(job)) throw new InputError(`not a job name: ${JSON.stringify(job).slice(0, 70)}`);
  const time = isoSeconds(at);
  const current = await readChecks(repo).catch((err: unknown) => {
    if (err instanceof DataError) return {} as ChecksFile;
    throw err;
  });
  if (current[job] !== undefined && Date.parse(current[job]) >= Date.parse(time)) return current;
  const next: ChecksFile = {};
  for (const key of [...Object.keys(current), job].filter((k, i, all) => all.indexOf(k) === i).sort()) {
    next[key] = key === job ? time : current[key]!;
  }
  await writeFileAtomic(join(repo, CHECKS_FILE), formatJson(next));
  return next;
}
