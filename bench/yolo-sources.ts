// The YOLO sources and images the YOLO fidelity benches read from ../shared/fixtures, and their
// `--name=value` flags (one table, so a bench cannot name a fixture differently from another).
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shared/fixtures');
export const COCO128_IMAGES = path.join(fixtures, 'coco128/images');
export const YOLO_SOURCES: Record<string, string> = {
  yolov5n: path.join(fixtures, 'yolov5n_web_model'),
  yolov8n: path.join(fixtures, 'yolov8n/yolov8n_int8.tflite'),
  yolo11n: path.join(fixtures, 'yolo11n/yolo11n_full_integer_quant.tflite'),
  'yolov8n-full-integer': path.join(fixtures, 'yolov8n/yolov8n_full_integer_quant.tflite'),
};

/** The value of `--name=value` on the command line (the first one given). */
export const flagValue = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
