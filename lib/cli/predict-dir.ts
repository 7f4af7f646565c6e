// Where `detect` saves its annotated picture when no -o is given: like `yolo predict`, a new numbered
// folder under runs/detect of the current directory (predict, predict2, predict3, ...), so a run
// never overwrites an earlier one and the place is predictable.
import fs from 'node:fs';
import path from 'node:path';

export const PREDICT_ROOT = path.join('runs', 'detect');

/** The first of <root>/predict, <root>/predict2, ... that does not exist (not created). */
export function nextPredictDir(root: string = PREDICT_ROOT): string {
  for (let n = 1; ; n++) {
    const dir = path.join(root, n === 1 ? 'predict' : `predict${n}`);
    if (!fs.existsSync(dir)) return dir;
  }
}

/** The picture's path in a predict folder: the image's base name with .png (what drawDetections writes). */
export function annotatedPicturePath(dir: string, image: string): string {
  return path.join(dir, `${path.basename(image, path.extname(image))}.png`);
}
