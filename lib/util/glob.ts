// File-name globs (`*` and `?` in the last path component only), so `'images/*.jpg'` means the same on
// every shell and platform without a glob dependency.

/** True when the string has a wildcard the matcher understands. */
export function hasWildcard(s: string): boolean {
  return /[*?]/.test(s);
}

/**
 * Converts a file-name pattern (`*` = any run of characters, `?` = one character, everything else
 * literal) into an anchored RegExp. Case-sensitive, like POSIX shells.
 */
export function patternToRegExp(pattern: string): RegExp {
  let re = '';
  for (const ch of pattern) {
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Names of `names` that match `pattern`, sorted (so a calibration set is reproducible). */
export function matchNames(names: readonly string[], pattern: string): string[] {
  const re = patternToRegExp(pattern);
  return names.filter((n) => re.test(n)).sort();
}
