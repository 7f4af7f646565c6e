// `--calib`: every dataset layout the library accepts (lib/yolo/dataset.ts), as a list of image files.
import { resolveDataset } from '../yolo/dataset.js';

export { hasWildcard, patternToRegExp, matchNames } from '../util/glob.js';

/**
 * Resolves `--calib` (an images folder, a dataset root, a dataset yaml, a .txt list, a glob on the
 * file name or one image) to its image files, sorted. Errors start with `--calib '<spec>'`.
 */
export function resolveImageList(spec: string): string[] {
  try {
    return resolveDataset(spec, { purpose: 'calibration' }).images;
  } catch (e) {
    throw new Error(`--calib ${(e as Error).message}`);
  }
}
