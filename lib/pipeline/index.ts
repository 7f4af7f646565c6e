export { decodeImage, rgbaToRgb, rgbToFloat, type RgbImage } from './image.js';
export {
  letterbox, letterboxTransform, resizeBilinear, boxToOriginal, boxToLetterbox, roundHalfEven,
  type LetterboxTransform, type LetterboxOptions,
} from './letterbox.js';
export { quantizeInput, floatToInput, dequantize, dequantizeOutput, pixelsToInput, type TensorQuantization, type QuantizedDType } from './quantize.js';
export {
  imageToInput, imageInputSize, toModelInput,
  type InputDescription, type PreparedInput, type ModelInputArray,
} from './input.js';
