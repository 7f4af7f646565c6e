// Name patterns a user types (file globs, recipe /regex/ matches) without runaway matching. A glob like
// '*a*a*a*a*a*a*a*a*a*a*b.jpg' turned into a backtracking RegExp takes exponential time on one long
// file name, and so does a regex like /^(.*)*X$/: globs are matched here in O(name x pattern), and a
// regex whose quantified group contains another quantifier (star height above 1, the shape of every
// catastrophic-backtracking pattern) or a backreference is refused before it runs.

/**
 * Whether `name` matches `pattern` (`*` any run of characters, `?` one character, the rest literal).
 * Greedy two-pointer matching that backtracks only to the last `*`: linear in practice, never
 * exponential.
 */
export function globMatch(pattern: string, name: string): boolean {
  const p = [...pattern];
  const s = [...name];
  let i = 0;
  let j = 0;
  let star = -1;
  let mark = 0;
  while (j < s.length) {
    if (i < p.length && (p[i] === '?' || (p[i] !== '*' && p[i] === s[j]))) {
      i++;
      j++;
    } else if (i < p.length && p[i] === '*') {
      star = i++;
      mark = j;
    } else if (star >= 0) {
      i = star + 1;
      j = ++mark;
    } else {
      return false;
    }
  }
  while (i < p.length && p[i] === '*') i++;
  return i === p.length;
}

/** One position of a regex source being scanned: inside a character class, after a backslash. */
function isQuantifierAt(src: string, k: number): boolean {
  const c = src[k];
  return c === '*' || c === '+' || c === '?' || (c === '{' && /^\{\d+(,\d*)?\}/.test(src.slice(k)));
}

/**
 * Throws, naming the pattern, when a regex can backtrack catastrophically: a quantified group that
 * contains a quantifier (e.g. (a+)+, (.*)*, (x|y*){2,}) or a backreference (\1).
 */
export function assertSafeRegex(source: string, where: string): void {
  // For each open group: whether a quantifier was seen inside it.
  const groups: boolean[] = [];
  let inClass = false;
  for (let k = 0; k < source.length; k++) {
    const c = source[k];
    if (c === '\\') {
      if (/[1-9]/.test(source[k + 1] ?? '')) throw new Error(`${where}: the regex /${source}/ uses a backreference, which can take exponential time; use a simpler pattern`);
      k++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') groups.push(false);
    else if (c === ')') {
      const hadQuantifier = groups.pop() ?? false;
      if (hadQuantifier && isQuantifierAt(source, k + 1)) {
        throw new Error(`${where}: the regex /${source}/ repeats a group that itself repeats (nested quantifiers), which can take exponential time; use a simpler pattern`);
      }
      if (hadQuantifier && groups.length) groups[groups.length - 1] = true;
    } else if (isQuantifierAt(source, k) && groups.length && !(c === '?' && source[k - 1] === '(')) {
      groups[groups.length - 1] = true;
    }
  }
}
