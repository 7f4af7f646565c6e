// File-name globs (`*` and `?` in the last path component only), so `'images/*.jpg'` means the same on
// every shell and platform without a glob dependency.
import { globMatch } from './safe-pattern.js';

/** True when the string has a wildcard the matcher understands. */
export function hasWildcard(s: string): boolean {
  return /[*?]/.test(s);
}

/**
 * A file-name pattern (`*` = any run of characters, `?` = one character, everything else literal) as
 * a matcher of whole names. Case-sensitive, like POSIX shells. Matched by globMatch, never through a
 * backtracking RegExp (a pattern like '*a*a*a*a*b.jpg' takes exponential time there).
 */
export function patternToRegExp(pattern: string): { test(name: string): boolean } {
  return { test: (name) => globMatch(pattern, name) };
}

/** Names of `names` that match `pattern`, sorted (so a calibration set is reproducible). */
export function matchNames(names: readonly string[], pattern: string): string[] {
  return names.filter((n) => globMatch(pattern, n)).sort();
}
