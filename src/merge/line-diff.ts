// Line alignment for the list merge: which lines of `b` are the same lines as lines of `a`.
// Myers' O(ND) shortest edit script on interned keys, after trimming the common prefix and
// suffix (most merges change a few lines at the ends of a list, so D stays tiny). A side that
// rewrote the whole list (sorted it, say) would make D huge; past `maxEdits` the alignment
// falls back to matching the lines that are unique on both sides, in their longest common
// order (patience-style), which is O(n log n) and good for lists of mostly unique numbers.

/** For each index of `a`, the index of the matching line of `b`, or -1 if it was deleted. */
export function alignLines(a: readonly string[], b: readonly string[], maxEdits = 300): Int32Array {
  const match = new Int32Array(a.length).fill(-1);
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) {
    match[start] = start;
    start++;
  }
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
    match[endA] = endB;
  }
  if (endA === start || endB === start) return match;

  const ids = new Map<string, number>();
  const intern = (s: string) => {
    let id = ids.get(s);
    if (id === undefined) ids.set(s, (id = ids.size));
    return id;
  };
  const x = Int32Array.from(a.slice(start, endA), intern);
  const y = Int32Array.from(b.slice(start, endB), intern);
  for (const [i, j] of myers(x, y, maxEdits) ?? uniqueMatches(x, y)) match[start + i] = start + j;
  return match;
}

/** Pairs of lines unique in both sequences, keeping the longest run in the same order. */
function uniqueMatches(a: Int32Array, b: Int32Array): [number, number][] {
  const once = (s: Int32Array) => {
    const at = new Map<number, number>();
    s.forEach((id, i) => at.set(id, at.has(id) ? -1 : i));
    return at;
  };
  const inA = once(a);
  const inB = once(b);
  const pairs: [number, number][] = [];
  inA.forEach((i, id) => {
    const j = inB.get(id);
    if (i >= 0 && j !== undefined && j >= 0) pairs.push([i, j]);
  });
  pairs.sort((p, q) => p[0] - q[0]);
  // Longest increasing subsequence of the b positions (patience sorting with back links).
  const tails: number[] = [];
  const prev = new Int32Array(pairs.length).fill(-1);
  pairs.forEach(([, j], k) => {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (pairs[tails[mid]!]![1] < j) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) prev[k] = tails[lo - 1]!;
    tails[lo] = k;
  });
  const out: [number, number][] = [];
  for (let k = tails.length > 0 ? tails[tails.length - 1]! : -1; k >= 0; k = prev[k]!) out.push(pairs[k]!);
  return out.reverse();
}

/**
 * Matched index pairs of a shortest edit script, or null past `maxEdits`. Keeps one V
 * snapshot per edit step (O(D^2) memory, bounded by the cap). Callers stay correct with any
 * alignment: the list merge decides membership per entry, position only places lines.
 */
function myers(a: Int32Array, b: Int32Array, maxEdits: number): [number, number][] | null {
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, maxEdits);
  const off = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = false;
  for (let d = 0; d <= max && !found; d++) {
    trace.push(v.slice(off - d - 1, off + d + 2));
    for (let k = -d; k <= d; k += 2) {
      let xi = k === -d || (k !== d && v[off + k - 1]! < v[off + k + 1]!) ? v[off + k + 1]! : v[off + k - 1]! + 1;
      let yi = xi - k;
      while (xi < n && yi < m && a[xi] === b[yi]) {
        xi++;
        yi++;
      }
      v[off + k] = xi;
      if (xi >= n && yi >= m) {
        found = true;
        break;
      }
    }
  }
  if (!found) return null;

  const pairs: [number, number][] = [];
  let xi = n;
  let yi = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const snap = trace[d]!;
    const at = (k: number) => snap[k + d + 1]!;
    const k = xi - yi;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : at(prevK);
    const prevY = d === 0 ? 0 : prevX - prevK;
    while (xi > prevX && yi > prevY) {
      xi--;
      yi--;
      pairs.push([xi, yi]);
    }
    xi = prevX;
    yi = prevY;
  }
  return pairs;
}
