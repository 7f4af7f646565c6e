// Small checks shared by the spec validators: each failure names where the spec came from.

export type Fail = (msg: string) => never;

export function specError(where: string): Fail {
  return (msg: string): never => {
    throw new Error(`${where}: ${msg}`);
  };
}

/** `version` absent means 1 (files written before specs carried a version). */
export function checkVersion(s: { version?: unknown; kind: string }, supported: number, fail: Fail): void {
  if (s.version === undefined) return;
  if (!Number.isInteger(s.version) || (s.version as number) < 1) fail(`version must be a positive integer, got ${JSON.stringify(s.version)}`);
  if ((s.version as number) > supported) {
    fail(`kind '${s.kind}' version ${s.version} is newer than this yolo-int8 reads (up to ${supported}): update yolo-int8`);
  }
}

export function checkInputSize(v: unknown, fail: Fail): void {
  if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => Number.isInteger(x) && x > 0)) {
    fail(`inputSize must be [h, w] positive integers, got ${JSON.stringify(v)}`);
  }
}

export function checkPositiveInt(v: unknown, what: string, fail: Fail): void {
  if (!Number.isInteger(v) || (v as number) < 1) fail(`${what} must be a positive integer, got ${JSON.stringify(v)}`);
}

export function checkTensorName(v: unknown, what: string, fail: Fail): void {
  if (typeof v !== 'string' || v.length === 0) fail(`${what} must be a tensor name, got ${JSON.stringify(v)}`);
}

export function checkShape(v: unknown, what: string, fail: Fail): void {
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => Number.isInteger(x) && x > 0)) {
    fail(`${what} must be a shape (positive integers), got ${JSON.stringify(v)}`);
  }
}
