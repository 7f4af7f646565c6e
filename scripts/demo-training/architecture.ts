// The demo detector's architecture: builds the untrained model that scripts/demo-training/train.ts
// trains into models/demo. The shipped demo only loads the trained model (lib/demo/model.ts).
import * as tf from '@tensorflow/tfjs';
import { DEMO_INPUT_SIZE, DEMO_NUM_CLASSES, DEMO_OUTPUT_NAMES, DEMO_STRIDES } from '../../lib/demo/model.js';

/** Channel widths of the backbone stages (stride 2, 4, 8, 16, 32). */
const WIDTHS = [16, 24, 40, 56, 80];

/** Builds layers deterministically: every initializer gets its own seed derived from `seed`. */
class LayerFactory {
  private counter = 0;
  constructor(private readonly seed: number) {}

  private nextSeed(): number {
    this.counter++;
    return (this.seed * 1000 + this.counter) >>> 0;
  }

  /** YOLOv5 Conv: Conv2D (no bias) + BatchNormalization + SiLU ('swish'). */
  conv(x: tf.SymbolicTensor, filters: number, kernel: number, stride: number, name: string): tf.SymbolicTensor {
    const c = tf.layers.conv2d({
      name: `${name}_conv`,
      filters,
      kernelSize: kernel,
      strides: stride,
      padding: 'same',
      useBias: false,
      kernelInitializer: tf.initializers.heNormal({ seed: this.nextSeed() }),
    }).apply(x) as tf.SymbolicTensor;
    // PyTorch YOLOv5 uses BN momentum 0.03 / eps 1e-3, i.e. Keras momentum 0.97.
    const b = tf.layers.batchNormalization({ name: `${name}_bn`, momentum: 0.97, epsilon: 1e-3 }).apply(c) as tf.SymbolicTensor;
    return tf.layers.activation({ name: `${name}_act`, activation: 'swish' }).apply(b) as tf.SymbolicTensor;
  }

  /** YOLOv5 C3 with one bottleneck: two 1x1 branches, bottleneck (1x1, 3x3, optional residual) on one, concat, 1x1. */
  c3(x: tf.SymbolicTensor, filters: number, shortcut: boolean, name: string): tf.SymbolicTensor {
    const hidden = filters / 2;
    const a = this.conv(x, hidden, 1, 1, `${name}_cv1`);
    const b = this.conv(x, hidden, 1, 1, `${name}_cv2`);
    let m = this.conv(this.conv(a, hidden, 1, 1, `${name}_m_cv1`), hidden, 3, 1, `${name}_m_cv2`);
    if (shortcut) m = tf.layers.add({ name: `${name}_m_add` }).apply([a, m]) as tf.SymbolicTensor;
    const cat = tf.layers.concatenate({ name: `${name}_cat`, axis: -1 }).apply([m, b]) as tf.SymbolicTensor;
    return this.conv(cat, filters, 1, 1, `${name}_cv3`);
  }

  /** YOLOv5 SPPF: 1x1 reduce, three chained 5x5 stride-1 max pools, concat of all four, 1x1. */
  sppf(x: tf.SymbolicTensor, filters: number, name: string): tf.SymbolicTensor {
    const hidden = filters / 2;
    const a = this.conv(x, hidden, 1, 1, `${name}_cv1`);
    const pool = (t: tf.SymbolicTensor, i: number) =>
      tf.layers.maxPooling2d({ name: `${name}_pool${i}`, poolSize: 5, strides: 1, padding: 'same' }).apply(t) as tf.SymbolicTensor;
    const p1 = pool(a, 1);
    const p2 = pool(p1, 2);
    const p3 = pool(p2, 3);
    const cat = tf.layers.concatenate({ name: `${name}_cat`, axis: -1 }).apply([a, p1, p2, p3]) as tf.SymbolicTensor;
    return this.conv(cat, filters, 1, 1, `${name}_cv2`);
  }

  /** Detect head of one level: 1x1 Conv2D with bias to 3*(5+nc) raw logits (bias priors set after build). */
  detect(x: tf.SymbolicTensor, name: string): tf.SymbolicTensor {
    const perAnchor = 5 + DEMO_NUM_CLASSES;
    return tf.layers.conv2d({
      name,
      filters: 3 * perAnchor,
      kernelSize: 1,
      padding: 'valid',
      useBias: true,
      kernelInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 0.01, seed: this.nextSeed() }),
      biasInitializer: tf.initializers.constant({ value: 0 }),
    }).apply(x) as tf.SymbolicTensor;
  }
}

export interface DemoModels {
  /** Outputs the raw head logits (training uses these for numerically stable BCE). */
  logits: tf.LayersModel;
  /** Same layers + sigmoid: the demo model as saved and shipped. */
  inference: tf.LayersModel;
}

/**
 * Builds the untrained demo detector (~0.2M parameters). Input [1,128,128,3] in [0,1];
 * outputs detect_p3/p4/p5 of shape [1,S/s,S/s,3*(5+nc)], channel c = anchor*(5+nc)+k,
 * values already sigmoid-activated (YOLOv5 convention: xy, wh, obj, classes).
 */
export function buildDemoModels(seed = 1): DemoModels {
  const f = new LayerFactory(seed);
  const input = tf.input({ name: 'images', shape: [DEMO_INPUT_SIZE, DEMO_INPUT_SIZE, 3] });
  const [w1, w2, w3, w4, w5] = WIDTHS;
  // Backbone.
  let x = f.conv(input, w1, 3, 2, 'b0'); // 80
  x = f.conv(x, w2, 3, 2, 'b1'); // 40
  x = f.c3(x, w2, true, 'b2');
  x = f.conv(x, w3, 3, 2, 'b3'); // 20 (stride 8)
  const p3 = f.c3(x, w3, true, 'b4');
  x = f.conv(p3, w4, 3, 2, 'b5'); // 10 (stride 16)
  const p4 = f.c3(x, w4, true, 'b6');
  x = f.conv(p4, w5, 3, 2, 'b7'); // 5 (stride 32)
  x = f.c3(x, w5, true, 'b8');
  const p5 = f.sppf(x, w5, 'b9');
  // Neck: top-down (FPN) then bottom-up (PAN), as in YOLOv5.
  const up = (t: tf.SymbolicTensor, name: string) =>
    tf.layers.upSampling2d({ name, size: [2, 2], interpolation: 'nearest' }).apply(t) as tf.SymbolicTensor;
  const cat = (ts: tf.SymbolicTensor[], name: string) => tf.layers.concatenate({ name, axis: -1 }).apply(ts) as tf.SymbolicTensor;
  const h10 = f.conv(p5, w4, 1, 1, 'h10');
  const h13 = f.c3(cat([up(h10, 'h11_up'), p4], 'h12_cat'), w4, false, 'h13');
  const h14 = f.conv(h13, w3, 1, 1, 'h14');
  const out3 = f.c3(cat([up(h14, 'h15_up'), p3], 'h16_cat'), w3, false, 'h17');
  const h18 = f.conv(out3, w3, 3, 2, 'h18');
  const out4 = f.c3(cat([h18, h14], 'h19_cat'), w4, false, 'h20');
  const h21 = f.conv(out4, w4, 3, 2, 'h21');
  const out5 = f.c3(cat([h21, h10], 'h22_cat'), w5, false, 'h23');

  const heads = [out3, out4, out5].map((t, i) => f.detect(t, `${DEMO_OUTPUT_NAMES[i]}_logits`));
  const logits = tf.model({ name: 'yolo_int8_demo_logits', inputs: input, outputs: heads });
  const sig = heads.map((h, i) => tf.layers.activation({ name: DEMO_OUTPUT_NAMES[i], activation: 'sigmoid' }).apply(h) as tf.SymbolicTensor);
  const inference = tf.model({ name: 'yolo_int8_demo', inputs: input, outputs: sig });
  setDetectBiasPriors(logits);
  return { logits, inference };
}

/** Writes YOLOv5's initial objectness / class biases into the three detect convs. */
function setDetectBiasPriors(model: tf.LayersModel): void {
  const perAnchor = 5 + DEMO_NUM_CLASSES;
  DEMO_OUTPUT_NAMES.forEach((name, i) => {
    const layer = model.getLayer(`${name}_logits`);
    const stride = DEMO_STRIDES[i];
    const bias = new Float32Array(3 * perAnchor);
    for (let a = 0; a < 3; a++) {
      // YOLOv5's priors: objectness ~ 8 objects per 640x640 image, class probability ~ 0.6/(nc-0.99).
      bias[a * perAnchor + 4] = Math.log(8 / (640 / stride) ** 2);
      for (let k = 5; k < perAnchor; k++) bias[a * perAnchor + k] = Math.log(0.6 / (DEMO_NUM_CLASSES - 0.99));
    }
    const [kernel] = layer.getWeights();
    layer.setWeights([kernel, tf.tensor1d(bias)]);
  });
}
