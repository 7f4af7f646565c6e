// The CLI's last word on an error: whatever was thrown, the user sees one line that names the file and
// says what was expected. The sources make their own messages so; this is the safety net for what slips
// through from Node (raw errno codes), emscripten (LiteRT's "Aborted(). Build with -sASSERTIONS ...") or a
// library (TF.js messages that name no file, empty messages, pages of text).

/** A token that names a file (a path with a slash, or a name with an extension): the message names its input. */
const PATH_LIKE = /[\w.~-]*\/[\w.-]+|\b[\w-]+\.(tflite|json|jpe?g|png|bmp|gif|txt|ya?ml|bin|zip)\b/i;

/** Longest message printed (the rest is cut; --verbose prints the stack). */
export const MAX_ERROR_CHARS = 300;

/** Node's errno codes, said in words (the codes mean nothing to most users). */
const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EISDIR: 'is a directory, expected a file',
  ENOTDIR: 'a part of the path is not a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ELOOP: 'too many levels of symbolic links (a symlink loop)',
  EEXIST: 'already exists',
  ENOSPC: 'no space left on the device',
  EROFS: 'read-only file system',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'file name too long',
  EBUSY: 'the file is busy',
  EINVAL: 'invalid argument',
  EFBIG: 'file too large',
  EIO: 'input/output error',
};

/** "ENOENT: no such file or directory, open 'x'" -> "x: no such file or directory". */
function rewriteErrno(message: string, error: { code?: unknown; path?: unknown }): string {
  const code = typeof error.code === 'string' ? error.code : undefined;
  // Node's form, anywhere in the message: "ELOOP: too many symbolic links encountered, stat 'a/b'".
  const named = message.replace(/\b(E[A-Z]{2,}): [^,']*, \w+ '([^']*)'(?: -> '[^']*')?/g, (_m, c: string, p: string) => `${p}: ${ERRNO_TEXT[c] ?? c.slice(1).toLowerCase()}`);
  if (named !== message) return named;
  if (code && ERRNO_TEXT[code] && typeof error.path === 'string' && message.startsWith(code)) return `${error.path}: ${ERRNO_TEXT[code]}`;
  // A code inside a longer message: keep the message, say the code in words.
  return message.replace(/\b(E[A-Z]{3,})(?=: )/g, (c) => (ERRNO_TEXT[c] ? ERRNO_TEXT[c] : c));
}

/** emscripten's abort text is replaced by what it means for the user. */
function rewriteAbort(message: string): string {
  return message
    .replace(/\s*Build with -sASSERTIONS for more info\.?/g, '')
    .replace(/(RuntimeError: )?Aborted\((.*?)\)\.?/g, (_m, _r, why: string) => `LiteRT aborted${why ? ` (${why})` : ''}; the file is not a model it can run`);
}

/**
 * One clean line for a thrown value. `files` are the paths the command was given: a message that names
 * no file at all is prefixed with the first, so the user knows which input it is about.
 */
export function errorLine(e: unknown, files: string[]): string {
  const err = e instanceof Error ? e : undefined;
  let text = err ? err.message : String(e);
  text = rewriteAbort(rewriteErrno(text.trim(), (err ?? {}) as { code?: unknown; path?: unknown }));
  // The first line: the sources put the message there (later lines, when any, are detail or stack).
  text = text.split('\n')[0].replace(/\s+/g, ' ').trim();
  if (!text) text = `failed with ${err?.name ?? typeof e} and no message`;
  if (files.length > 0 && !files.some((f) => text.includes(f)) && !PATH_LIKE.test(text)) text = `${files[0]}: ${text}`;
  if (text.length > MAX_ERROR_CHARS) text = `${text.slice(0, MAX_ERROR_CHARS - 60).trimEnd()} ... (${text.length} characters; --verbose shows all)`;
  return text;
}
