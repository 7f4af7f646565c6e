// Finding where post-processing (NMS, loops, data-dependent shapes) starts, so importers can cut the
// graph before it: post-processing is never quantized.

/** Source ops that only occur in post-processing (NMS and its control flow). */
const POSTPROCESS_OPS = new Set([
  'NonMaxSuppressionV2', 'NonMaxSuppressionV3', 'NonMaxSuppressionV4', 'NonMaxSuppressionV5',
  'CombinedNonMaxSuppression', 'While', 'StatelessWhile', 'Enter', 'Exit', 'Merge', 'Switch',
  'NextIteration', 'LoopCond', 'Where', 'TopKV2', 'If', 'StatelessIf',
  // TFLite builtins of the same kind
  'NON_MAX_SUPPRESSION_V4', 'NON_MAX_SUPPRESSION_V5', 'WHILE', 'IF', 'WHERE', 'TOPK_V2',
]);

export function isPostprocessOp(op: string): boolean {
  return POSTPROCESS_OPS.has(op) || op.startsWith('TensorList') || op.startsWith('TensorArray');
}

export interface CutCandidate {
  tensor: string;
  shape: number[];
  /** Topological position (later = closer to the outputs). */
  order: number;
  /** Source nodes downstream of this tensor. */
  reaches: Set<string>;
}

/** A detection-rows tensor: [1, N, C] with N rows (more rows than values) of at least 6 values (a box, a score, a class). */
export function isDetectionShape(shape: readonly number[]): boolean {
  return shape.length === 3 && shape[0] === 1 && shape[2] >= 6 && shape[1] > shape[2];
}

/**
 * Picks the cut: the latest detection-shaped tensor from which every input-dependent post-processing
 * node is reachable (so the whole post-processing lies after it).
 */
export function chooseCut(candidates: CutCandidate[], postNodes: string[], label: string, postOps: string[]): CutCandidate & { why: string } {
  const ok = candidates.filter((c) => isDetectionShape(c.shape) && postNodes.every((p) => c.reaches.has(p)));
  ok.sort((a, b) => b.order - a.order);
  if (ok.length === 0) {
    const ops = [...new Set(postOps)].sort().join(', ');
    throw new Error(`${label}: the graph contains post-processing (${ops}) but no detection-rows tensor ([1, N, C], N > C >= 6) feeding all of it was found; pass opts.outputs to name the tensor to cut at`);
  }
  const why = `feeds ${[...new Set(postOps)].sort().join(', ')}`;
  return { ...ok[0], why };
}
