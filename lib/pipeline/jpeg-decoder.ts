// JPEG decoding with libjpeg-turbo's arithmetic: mozjpeg (a libjpeg-turbo derivative) built to
// WebAssembly, as shipped by @jsquash/jpeg. OpenCV's imread, and so ultralytics, decodes with
// libjpeg-turbo (integer IDCT, fancy upsampling); this gives the same pixels (every value of the 128
// coco128 images equals libjpeg-turbo 2.1.5's djpeg), where jpeg-js (jimp) differs by 1-4 levels in
// about half of them.
//
// The wasm file is read from the installed package and compiled here: the package's own loader would
// fetch() it by URL. One codec instance per thread (the decode worker has its own), made on first use;
// libjpeg ends a failed decode with exit(), which leaves that instance's heap in an unknown state, so
// a failure drops the instance and the next decode makes a fresh one from the compiled module. An
// instance's heap grows to the largest image it decoded (its RGBA plus the file) and keeps that size.
// The emscripten glue defines globalThis.ImageData (a plain { data, width, height } class) when Node
// has none, since its decode returns one; it also sets `self.location` when `self` exists (LiteRT's
// loader defines it), which is undone here so no other library sees a fake page location.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import mozjpegFactory, { type MozJPEGModule } from '@jsquash/jpeg/codec/dec/mozjpeg_dec.js';

const require = createRequire(import.meta.url);

interface Codec {
  module: Promise<MozJPEGModule>;
  /** What libjpeg printed (warnings, then the error) during the current decode. */
  messages: string[];
}

let compiled: Promise<WebAssembly.Module> | undefined;
let codec: Codec | undefined;

function compiledWasm(): Promise<WebAssembly.Module> {
  compiled ??= WebAssembly.compile(fs.readFileSync(require.resolve('@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm')));
  return compiled;
}

/** Calls the emscripten factory, then removes the `location` global its prelude may have set. */
function instantiate(wasm: WebAssembly.Module, messages: string[]): Promise<MozJPEGModule> {
  const hadLocation = Object.prototype.hasOwnProperty.call(globalThis, 'location');
  const module = mozjpegFactory({
    noInitialRun: true,
    print: (line: string) => messages.push(line),
    printErr: (line: string) => messages.push(line),
    instantiateWasm: (imports: WebAssembly.Imports, done: (instance: WebAssembly.Instance) => void) => {
      const instance = new WebAssembly.Instance(wasm, imports);
      done(instance);
      return instance.exports;
    },
  } as Parameters<typeof mozjpegFactory>[0]);
  if (!hadLocation) delete (globalThis as { location?: unknown }).location;
  return module;
}

async function currentCodec(): Promise<Codec> {
  if (!codec) {
    const wasm = await compiledWasm();
    if (!codec) {
      const messages: string[] = [];
      codec = { module: instantiate(wasm, messages), messages };
    }
  }
  return codec;
}

/** Decoded pixels as the codec gives them: RGBA rows as stored (EXIF orientation not applied). */
export interface RgbaPixels {
  width: number;
  height: number;
  rgba: Uint8ClampedArray;
}

/**
 * Decodes a JPEG (baseline or progressive, gray or YCbCr; not CMYK, which libjpeg does not turn
 * into RGB) into RGBA. Throws libjpeg's reason.
 */
export async function decodeJpegLibjpeg(bytes: Uint8Array): Promise<RgbaPixels> {
  const current = await currentCodec();
  const module = await current.module;
  current.messages.length = 0;
  let decoded: ImageData | null;
  try {
    decoded = module.decode(bytes as Uint8Array<ArrayBuffer>, false);
  } catch (e) {
    codec = undefined; // a fresh instance for the next image
    const reason = current.messages.at(-1) ?? (e as Error).message ?? String(e);
    throw new Error(`libjpeg: ${reason}`);
  }
  if (!decoded) throw new Error('libjpeg: no image');
  return { width: decoded.width, height: decoded.height, rgba: decoded.data };
}
