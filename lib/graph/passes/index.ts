// The default pass pipeline every imported graph goes through before calibration. Cross-layer
// equalization (equalize.ts) is exported here but is not part of it: it is an option.
import type { Graph } from '../../ir/graph.js';
import { equalizeCrossLayer, type EqualizeOptions, type EqualizeReport, type EqualizedPair } from './equalize.js';
import { foldBatchNorm } from './fold-batchnorm.js';
import { foldBias } from './fold-bias.js';
import { foldConstants } from './fold-constants.js';
import { fuseActivations } from './fuse-activations.js';
import { fuseSilu } from './fuse-silu.js';
import { inferShapes } from './infer-shapes.js';
import { removeDeadNodes } from './remove-dead.js';
import { removeIdentity } from './remove-identity.js';

export { equalizeCrossLayer, type EqualizeOptions, type EqualizeReport, type EqualizedPair };
export { foldBatchNorm, foldBias, foldConstants, fuseActivations, fuseSilu, inferShapes, removeDeadNodes, removeIdentity };

export function runDefaultPasses(graph: Graph): Graph {
  let g = removeDeadNodes(graph);
  g = removeIdentity(g);
  g = foldConstants(g);
  // Bias before BatchNorm (conv -> bias -> BN), and again after (conv -> BN -> bias).
  g = foldBias(g);
  g = foldBatchNorm(g);
  g = foldBias(g);
  g = fuseActivations(g);
  g = fuseSilu(g);
  g = removeDeadNodes(g);
  return inferShapes(g);
}
