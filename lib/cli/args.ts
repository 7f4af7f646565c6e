// Command-line helpers that make mistakes cheap: the closest known word for a typo, and negative
// numbers as option values (node:util parseArgs reads `--num -3` as an option '-3' and calls it
// "ambiguous"; a user means the value -3).

/** Edit distance (insertions, deletions, substitutions, adjacent transpositions) between two words. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * The candidate a typo most likely meant: the nearest by edit distance when that distance is at most
 * a third of the word's length (at least 1), or the one candidate the word is a prefix of. Ties go
 * to the first candidate; undefined when nothing is close.
 */
export function closestWord(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const dist = editDistance(w, c.toLowerCase());
    if (dist < bestDistance) [best, bestDistance] = [c, dist];
  }
  if (best !== undefined && bestDistance <= Math.max(1, Math.floor(w.length / 3))) return best;
  const prefixed = candidates.filter((c) => w.length >= 2 && c.toLowerCase().startsWith(w));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/**
 * A negative number as written on a command line (-3, -0.5, -.5, -1e-3), or a comma-separated list that
 * starts with one (`--input-range -1,1`).
 */
const NUMBER = String.raw`(\d+\.?\d*|\.\d+)(e[+-]?\d+)?`;
const NEGATIVE_NUMBER = new RegExp(`^-${NUMBER}(,\\s*-?${NUMBER})*$`, 'i');

/**
 * `--name -3` and `-n -3` for options that take a value become `--name=-3`, so the option parser sees
 * the value and the option's own check says what range it expects. Other arguments are unchanged.
 */
export function joinNegativeValues(args: readonly string[], options: Record<string, { type: 'string' | 'boolean'; short?: string }>): string[] {
  const longOf = new Map<string, string>();
  for (const [name, o] of Object.entries(options)) {
    if (o.type !== 'string') continue;
    longOf.set(`--${name}`, name);
    if (o.short) longOf.set(`-${o.short}`, name);
  }
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = longOf.get(args[i]);
    if (name !== undefined && i + 1 < args.length && NEGATIVE_NUMBER.test(args[i + 1])) {
      out.push(`--${name}=${args[i + 1]}`);
      i++;
    } else {
      out.push(args[i]);
    }
  }
  return out;
}
