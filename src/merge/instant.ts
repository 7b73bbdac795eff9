// ISO-8601 instants as the merge functions compare them: as points in time (Date.parse),
// never as strings, so "2024-11-14T23:00:00+01:00" and "2024-11-14T22:00:00Z" are equal.
// Only ISO-8601 date-times count: Date.parse alone would also accept "Nov 14 2024".

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** Milliseconds since the epoch, or undefined when `value` is not an ISO-8601 date-time. */
export function parseInstant(value: unknown): number | undefined {
  if (typeof value !== "string" || !ISO_DATE_TIME.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Orders two optional instants: positive when `a` is newer. A known time is newer than an
 * unknown one, so a side that carries a parseable time beats one that does not.
 */
export function compareInstants(a: number | undefined, b: number | undefined): number {
  if (a === undefined || b === undefined) return (a === undefined ? 0 : 1) - (b === undefined ? 0 : 1);
  return Math.sign(a - b);
}

/** Code-unit order of two texts: the fixed content rule that breaks ties in both directions alike. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
