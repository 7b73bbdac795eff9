// What the files of the data repo say about one PR, read by the store's repo scan and
// consumed by the pure state machine, scheduler and integrity checks. Deriving state from
// these facts (never from memory) is what makes every writer agree on a PR's state.
import type { ListName } from "../layout.js";

/** One stored record folder: `data/N` (full) or `data/N-basic`. */
export interface RecordFacts {
  basic: boolean;
  /** Every record file present parses and has `data.repository.pullRequest`. */
  valid: boolean;
  /** Why it is not valid, when it is not (unparseable file, unexpected file, missing pr_info). */
  problems: string[];
  /** `pullRequest.updatedAt` of the main file (pr_info.json / basic_pr_info.json). */
  updatedAt?: string;
  /** Fetch time: the record's own stamp, else timestamp.txt. */
  fetchedAt?: string;
  /** Key fields, for integrity and paranoid checks (from the main file). */
  state?: "OPEN" | "CLOSED" | "MERGED";
  headRefOid?: string;
  isDraft?: boolean;
  title?: string;
  labels?: string[];
  baseRefName?: string;
  reviewDecision?: string | null;
  /** Conclusion summary of the last commit's CI: "SUCCESS" | "FAILURE" | "PENDING" | "NONE". */
  ci?: "SUCCESS" | "FAILURE" | "PENDING" | "NONE";
}

/** One failed download attempt (`state/attempts/N/<iso>-<writer>.json`, or a legacy list comment). */
export interface AttemptFacts {
  at: string;
  writer: string;
  errorClass: string;
  /** "full" or "basic": which query failed. */
  query: "full" | "basic";
  /** Repo-relative path of the attempt file; undefined for a legacy `-- second attempt for N` comment. */
  path?: string;
}

/** One queued webhook/Actions event (`state/queue/N/<delivery>.json`). */
export interface QueuedFacts {
  deliveryId: string;
  event: string;
  action?: string;
  receivedAt: string;
  path: string;
}

export interface PrFacts {
  pr: number;
  full?: RecordFacts;
  basic?: RecordFacts;
  /** A leftover `data/N-temp` or `data/N-basic-temp` folder exists. */
  temp: boolean;
  /** Lists that name this PR. */
  lists: Set<ListName>;
  attempts: AttemptFacts[];
  queued: QueuedFacts[];
}
