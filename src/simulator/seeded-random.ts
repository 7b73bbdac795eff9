// Deterministic pseudo-random numbers (mulberry32), so a generated repository is the same
// for the same seed in every run and on every machine.

export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 40 hex digits drawn from `random`. */
export function randomSha(random: () => number): string {
  let out = "";
  while (out.length < 40) out += Math.floor(random() * 0x100000000).toString(16).padStart(8, "0");
  return out.slice(0, 40);
}
