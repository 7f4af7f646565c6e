// Reading input files with bounded resources. A path a user gives may name anything: a FIFO (an open
// blocks forever), a device (/dev/zero never ends), a directory, a looping symlink, or a regular file
// far larger than any model. Every file the library reads goes through here: it is opened without
// blocking, checked to be a regular file (after following symlinks) no larger than the caller's limit,
// and read whole; errors are one line naming the file and what was expected.
import fs from 'node:fs';

/** Plausible upper bounds per kind of file (bytes); callers may pass their own. */
export const READ_LIMITS = {
  /** A .tflite flatbuffer is at most 2 GiB; larger models keep buffers after it (up to this). */
  model: 4 * 2 ** 30,
  /** model.json, metadata JSON, recipes. */
  json: 256 * 2 ** 20,
  /** One encoded image. */
  image: 256 * 2 ** 20,
  /** Label files, dataset yaml, image lists, class-name files. */
  text: 64 * 2 ** 20,
} as const;

const REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ELOOP: 'too many levels of symbolic links (a symlink loop?)',
  ENOTDIR: 'a part of the path is not a directory',
  ENAMETOOLONG: 'the name is too long',
  EISDIR: 'it is a directory',
  EIO: 'input/output error',
};

/** "no such file" for an errno error; the message otherwise. */
export function describeFsError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return (code && REASONS[code]) ?? (e as Error).message;
}

function kindOf(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function mib(n: number): string {
  return n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : `${(n / 2 ** 20).toFixed(1)} MiB`;
}

/**
 * Opens a regular file (symlinks followed) for reading and returns its descriptor and size; the caller
 * closes it. O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer; fstat then
 * refuses it (and a device) before anything is read.
 */
function openRegular(file: string, what: string): { fd: number; size: number } {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    throw new Error(`${file}: cannot read the ${what}: ${describeFsError(e)}`);
  }
  const st = fs.fstatSync(fd);
  if (!st.isFile()) {
    fs.closeSync(fd);
    throw new Error(`${file}: the ${what} is ${kindOf(st)}; a regular file was expected`);
  }
  return { fd, size: st.size };
}

/**
 * The bytes of a regular file (symlinks followed) of at most `maxBytes`. `what` names the file's role
 * in errors ("model", "image", "label file"). Never blocks on a FIFO, never reads a device.
 */
export function readRegularFile(file: string, what: string, maxBytes: number): Uint8Array {
  const { fd, size } = openRegular(file, what);
  try {
    if (size > maxBytes) throw new Error(`${file}: the ${what} is ${mib(size)}, over the limit of ${mib(maxBytes)} for a ${what}`);
    const out = new Uint8Array(size);
    let o = 0;
    while (o < out.length) {
      const n = fs.readSync(fd, out, o, out.length - o, o);
      if (n === 0) throw new Error(`${file}: the ${what} became shorter while being read (${o} of ${size} bytes)`);
      o += n;
    }
    return out;
  } catch (e) {
    if (e instanceof Error && e.message.startsWith(`${file}:`)) throw e;
    throw new Error(`${file}: cannot read the ${what}: ${describeFsError(e)}`);
  } finally {
    fs.closeSync(fd);
  }
}

/** A regular text file (UTF-8) of at most `maxBytes`; see readRegularFile. */
export function readRegularTextFile(file: string, what: string, maxBytes: number = READ_LIMITS.text): string {
  return new TextDecoder().decode(readRegularFile(file, what, maxBytes));
}

/** The first `n` bytes of a regular file (fewer when shorter): format sniffing without reading it all. */
export function readFileHead(file: string, what: string, n: number): Uint8Array {
  const { fd, size } = openRegular(file, what);
  try {
    const head = new Uint8Array(Math.min(n, size));
    const got = head.length ? fs.readSync(fd, head, 0, head.length, 0) : 0;
    return head.subarray(0, got);
  } finally {
    fs.closeSync(fd);
  }
}
