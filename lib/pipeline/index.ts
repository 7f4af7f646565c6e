export { decodeImage, type RgbImage } from './image.js';
export { letterbox, boxToOriginal, type LetterboxTransform } from './letterbox.js';
export { quantizeInput, dequantize, dequantizeOutput, pixelsToInput } from './quantize.js';
export { imageToInput, toModelInput, type InputDescription, type PreparedInput } from './input.js';
