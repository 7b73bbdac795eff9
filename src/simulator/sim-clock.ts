// The simulator's notion of "now" for PR times (updatedAt of mutations, generated PRs).
// Settable and advanceable, so a test can make a scheduled run "late by an hour" without
// waiting. Rate-limit windows use the real clock instead: the client's throttling compares
// x-ratelimit-reset with the machine's time.

/** Runs with the real clock until `set` is called (or a start is given); from then on it stands still except for `advance`. */
export class SimClock {
  private offsetMs = 0;
  private fixedMs: number | undefined;

  constructor(start?: number | string | Date) {
    if (start !== undefined) this.set(start);
  }

  /** Milliseconds since the epoch, simulated. */
  now(): number {
    return this.fixedMs ?? Date.now() + this.offsetMs;
  }

  /** Freezes the clock at `time` (later `advance` calls move it). */
  set(time: number | string | Date): void {
    const ms = typeof time === "number" ? time : new Date(time).getTime();
    if (!Number.isFinite(ms)) throw new Error(`SimClock: not a time: ${String(time)}`);
    this.fixedMs = ms;
  }

  advance(ms: number): void {
    if (this.fixedMs !== undefined) this.fixedMs += ms;
    else this.offsetMs += ms;
  }
}
