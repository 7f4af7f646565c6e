// Finding where post-processing (NMS, top-k, arg-max decoding, loops, landmark transforms) starts at
// the end of a graph, so importers can cut the graph before it: post-processing is never quantized,
// and the ops cut are named in a note that says how to run them on the host.
//
// Format-independent: each importer describes its source graph as a CutView (nodes with their input
// and output tensor names) and says which ops it can import and which carry learned weights.

/** Source ops that only occur in post-processing (NMS, top-k, control flow, MediaPipe's landmark ops). */
const POSTPROCESS_OPS = new Set([
  'NonMaxSuppressionV2', 'NonMaxSuppressionV3', 'NonMaxSuppressionV4', 'NonMaxSuppressionV5',
  'CombinedNonMaxSuppression', 'While', 'StatelessWhile', 'Enter', 'Exit', 'Merge', 'Switch',
  'NextIteration', 'LoopCond', 'Where', 'TopKV2', 'If', 'StatelessIf',
  // TFLite builtins and custom ops of the same kind
  'NON_MAX_SUPPRESSION_V4', 'NON_MAX_SUPPRESSION_V5', 'WHILE', 'IF', 'WHERE', 'TOPK_V2',
  'CUSTOM(TFLite_Detection_PostProcess)', 'CUSTOM(Landmarks2TransformMatrix)', 'CUSTOM(TransformLandmarks)',
  'CUSTOM(TransformTensorBilinear)',
]);

/** Ops that end a graph as post-processing when nothing learned follows them (arg-max decoding). */
const END_OPS = new Set(['ArgMax', 'ArgMin', 'ARG_MAX', 'ARG_MIN']);

/**
 * Index, comparison, selection and reduction ops that post-processing is built from: cut with it when
 * they only feed it (and after it). An op outside these sets that the importer does not know is an
 * unsupported op wherever it is: the cut never hides it.
 */
const GLUE_OPS = new Set([
  'Equal', 'NotEqual', 'Greater', 'GreaterEqual', 'Less', 'LessEqual', 'LogicalAnd', 'LogicalOr', 'LogicalNot',
  'Select', 'SelectV2', 'Fill', 'Range', 'GatherV2', 'GatherNd', 'Sum', 'Max', 'Min', 'Prod', 'Cast', 'FloorDiv',
  'FloorMod', 'Floor', 'Round', 'ZerosLike', 'OnesLike', 'Tile', 'BroadcastTo', 'Size', 'Rank', 'Unique', 'OneHot',
  'SparseToDense', 'Cumsum', 'ShapeN', 'ArgMax', 'ArgMin',
  'EQUAL', 'NOT_EQUAL', 'GREATER', 'GREATER_EQUAL', 'LESS', 'LESS_EQUAL', 'LOGICAL_AND', 'LOGICAL_OR', 'LOGICAL_NOT',
  'SELECT', 'SELECT_V2', 'FILL', 'RANGE', 'GATHER', 'GATHER_ND', 'SUM', 'REDUCE_MAX', 'REDUCE_MIN', 'REDUCE_PROD',
  'CAST', 'FLOOR_DIV', 'FLOOR_MOD', 'FLOOR', 'ROUND', 'ZEROS_LIKE', 'ONES_LIKE', 'TILE', 'BROADCAST_TO', 'UNIQUE',
  'ONE_HOT', 'SPARSE_TO_DENSE', 'CUMSUM', 'SHAPE', 'ARG_MAX', 'ARG_MIN',
]);

/** How to run a cut op on the host (TF.js), for the note. */
const HOST_HINTS: [RegExp, string][] = [
  [/^(NonMaxSuppression|CombinedNonMaxSuppression|NON_MAX_SUPPRESSION)/, 'NMS with tf.image.nonMaxSuppression'],
  [/^(TopKV2|TOPK_V2)$/, 'top-k with tf.topk'],
  [/^(ArgMax|ARG_MAX)$/, 'arg-max with tf.argMax'],
  [/^(ArgMin|ARG_MIN)$/, 'arg-min with tf.argMin'],
  [/^(GatherV2|GATHER)$/, 'gathers with tf.gather'],
  [/^(GatherNd|GATHER_ND)$/, 'gathers with tf.gatherND'],
  [/^(Enter|Exit|Merge|Switch|NextIteration|LoopCond|While|StatelessWhile|WHILE|If|StatelessIf|IF)$|^TensorList|^TensorArray/, "the loop as the model's own post-processing code does it"],
  [/^CUSTOM\(TFLite_Detection_PostProcess\)$/, 'box decoding and NMS as TFLite_Detection_PostProcess does'],
  [/^CUSTOM\((Landmarks2TransformMatrix|TransformLandmarks|TransformTensorBilinear)\)$/, "the landmark transforms as MediaPipe's graph does"],
];

export function isPostprocessOp(op: string): boolean {
  return POSTPROCESS_OPS.has(op) || op.startsWith('TensorList') || op.startsWith('TensorArray');
}

/** True for the ops the cut may take away when they are not importable (see GLUE_OPS). */
export function isCuttableOp(op: string): boolean {
  return isPostprocessOp(op) || END_OPS.has(op) || GLUE_OPS.has(op);
}

/** One node of a source graph, with the tensor names it reads and writes. */
export interface CutNode {
  name: string;
  op: string;
  inputs: string[];
  outputs: string[];
}

/** A source graph as the cut search sees it. Constants are tensors no node writes that are not inputs. */
export interface CutView {
  nodes: CutNode[];
  inputs: string[];
  outputs: string[];
  /** 'weighted' = an importable op with learned weights (convolutions, dense layers). */
  kind(op: string): 'importable' | 'weighted' | 'unknown';
}

export interface PostprocessCut {
  /** The tensors the cut graph ends at. */
  outputs: string[];
  /** The nodes cut away. */
  cut: CutNode[];
  /** For graph.meta.notes: where the graph was cut, the ops cut (with counts) and how to run them. */
  note: string;
}

/** Producers and consumers of every tensor, and the nodes the outputs need. */
interface Edges {
  producer: Map<string, CutNode>;
  consumers: Map<string, CutNode[]>;
  live: Set<CutNode>;
}

function edgesOf(view: CutView): Edges {
  const producer = new Map<string, CutNode>();
  const consumers = new Map<string, CutNode[]>();
  for (const n of view.nodes) {
    for (const t of n.outputs) producer.set(t, n);
    for (const t of n.inputs) {
      if (!consumers.has(t)) consumers.set(t, []);
      consumers.get(t)!.push(n);
    }
  }
  const live = new Set<CutNode>();
  const stack = view.outputs.map((t) => producer.get(t)).filter((n): n is CutNode => n !== undefined);
  while (stack.length) {
    const n = stack.pop()!;
    if (live.has(n)) continue;
    live.add(n);
    for (const t of n.inputs) {
      const p = producer.get(t);
      if (p && !live.has(p)) stack.push(p);
    }
  }
  return { producer, consumers, live };
}

/** Live nodes downstream of `starts` (themselves included). */
function downstream(e: Edges, starts: Iterable<CutNode>): Set<CutNode> {
  const seen = new Set<CutNode>();
  const stack = [...starts];
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n) || !e.live.has(n)) continue;
    seen.add(n);
    for (const t of n.outputs) for (const c of e.consumers.get(t) ?? []) if (!seen.has(c)) stack.push(c);
  }
  return seen;
}

/** Tensors computed from the graph inputs (the others are constants or built from constants). */
function inputDependent(view: CutView, e: Edges): Set<string> {
  const seen = new Set<string>(view.inputs);
  for (const n of downstream(e, view.inputs.flatMap((t) => e.consumers.get(t) ?? []))) for (const t of n.outputs) seen.add(t);
  return seen;
}

/**
 * The nodes to cut: post-processing ops with nothing learned downstream, everything after them, and
 * the glue ops (comparisons, gathers...) the importer cannot import whose results only feed the cut.
 */
function tailOf(view: CutView, e: Edges): Set<CutNode> {
  const atEnd = (n: CutNode) => ![...downstream(e, [n])].some((d) => view.kind(d.op) === 'weighted');
  // Arg-max at the end is post-processing even though it imports: its int32 indices are no int8 output.
  const seeds = [...e.live].filter((n) => (isPostprocessOp(n.op) || END_OPS.has(n.op)) && atEnd(n));
  const tail = downstream(e, seeds);
  if (tail.size === 0) return tail;
  // Nodes whose results only feed the tail (a worklist from the tail's producers upwards).
  const outputs = new Set(view.outputs);
  const feedsOnlyTail = new Set<CutNode>();
  const onlyTail = (n: CutNode) => n.outputs.every((t) => !outputs.has(t) && (e.consumers.get(t) ?? []).every((c) => !e.live.has(c) || tail.has(c) || feedsOnlyTail.has(c)));
  const work = [...tail].flatMap((n) => n.inputs.map((t) => e.producer.get(t)).filter((p): p is CutNode => p !== undefined));
  while (work.length) {
    const n = work.pop()!;
    if (tail.has(n) || feedsOnlyTail.has(n) || !e.live.has(n) || !onlyTail(n)) continue;
    feedsOnlyTail.add(n);
    for (const t of n.inputs) { const p = e.producer.get(t); if (p) work.push(p); }
  }
  // Glue that only feeds the cut goes with it whether or not it imports (a GatherNd by computed indices
  // decoding MoveNet's keypoints is post-processing, not a layer).
  const glue = [...feedsOnlyTail].filter((n) => GLUE_OPS.has(n.op) && atEnd(n));
  for (const n of downstream(e, glue)) tail.add(n);
  return tail;
}

/**
 * Walks up from `t` over input-dependent tensors without passing the tensors of `stop`: undefined when
 * the walk reaches a graph input (so `stop` does not cut every path), else whether it met a learned op.
 */
function walkUpTo(e: Edges, fromInputs: Set<string>, view: CutView, t: string, stop: Set<string>): { weighted: boolean } | undefined {
  const seen = new Set<string>();
  let weighted = false;
  const stack = [t];
  while (stack.length) {
    const x = stack.pop()!;
    if (seen.has(x) || stop.has(x) || !fromInputs.has(x)) continue;
    seen.add(x);
    const p = e.producer.get(x);
    if (!p) return undefined;
    // An op nobody imports blocks the move too: it must stay where its error is reported.
    if (view.kind(p.op) === 'weighted' || (view.kind(p.op) === 'unknown' && !isCuttableOp(p.op))) weighted = true;
    stack.push(...p.inputs);
  }
  return { weighted };
}

/** Input-dependent tensors upstream of `t` (itself included). */
function upstreamAll(e: Edges, fromInputs: Set<string>, t: string): Set<string> {
  const seen = new Set<string>();
  const stack = [t];
  while (stack.length) {
    const x = stack.pop()!;
    if (seen.has(x) || !fromInputs.has(x)) continue;
    seen.add(x);
    stack.push(...(e.producer.get(x)?.inputs ?? []));
  }
  return seen;
}

/**
 * The latest tensor every input-dependent path into `frontier` runs through, when nothing learned lies
 * between it and the frontier: box decoding and score arithmetic on one tensor (a YOLO [1,N,5+classes]
 * detection tensor) are left to the host with the rest. Undefined when there is none.
 */
function commonSource(e: Edges, fromInputs: Set<string>, view: CutView, frontier: string[], order: Map<string, number>): string | undefined {
  if (frontier.length === 1) return frontier[0];
  const all = frontier.map((t) => upstreamAll(e, fromInputs, t));
  const common = [...all[0]].filter((t) => all.every((s) => s.has(t)) && e.producer.has(t)).sort((a, b) => order.get(b)! - order.get(a)!);
  for (const c of common) {
    const walks = frontier.map((t) => walkUpTo(e, fromInputs, view, t, new Set([c])));
    if (walks.every((w) => w !== undefined)) return walks.some((w) => w!.weighted) ? undefined : c;
  }
  return undefined;
}

/**
 * The frontier without the tensors the other outputs give through weightless arithmetic (a max-pool
 * of a heatmap output, a reshape of a box output): those are left to the host too.
 */
function reduceFrontier(e: Edges, fromInputs: Set<string>, view: CutView, frontier: string[], keptOutputs: string[], order: Map<string, number>): string[] {
  let current = [...frontier];
  for (const f of [...frontier].sort((a, b) => order.get(b)! - order.get(a)!)) {
    const others = withIdentitySources(e, [...keptOutputs, ...current.filter((t) => t !== f)]);
    if (others.size === 0) continue;
    const walk = walkUpTo(e, fromInputs, view, f, others);
    if (walk && !walk.weighted) current = current.filter((t) => t !== f);
  }
  return current;
}

/** Ops that pass their one input through unchanged. */
const IDENTITY_OPS = new Set(['Identity', 'Snapshot', 'StopGradient']);

/** The tensors and, through Identity chains, the tensors they copy (an output 'Identity_6' is its source too). */
function withIdentitySources(e: Edges, tensors: string[]): Set<string> {
  const out = new Set<string>();
  for (let t of tensors) {
    out.add(t);
    for (let p = e.producer.get(t); p && IDENTITY_OPS.has(p.op) && p.inputs.length === 1 && !out.has(p.inputs[0]); p = e.producer.get(t)) {
      t = p.inputs[0];
      out.add(t);
    }
  }
  return out;
}

/** Topological position of every tensor a live node writes (graph inputs first). */
function tensorOrder(view: CutView, e: Edges): Map<string, number> {
  const order = new Map<string, number>();
  view.inputs.forEach((t) => order.set(t, order.size));
  const done = new Set<CutNode>();
  const onStack = new Set<CutNode>();
  const visit = (start: CutNode) => {
    const stack: [CutNode, number][] = [[start, 0]];
    onStack.add(start);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [n, k] = top;
      if (k < n.inputs.length) {
        top[1]++;
        const p = e.producer.get(n.inputs[k]);
        // A producer already on the stack is a loop back edge (NextIteration): it does not order.
        if (p && !done.has(p) && !onStack.has(p)) { onStack.add(p); stack.push([p, 0]); }
        continue;
      }
      done.add(n);
      onStack.delete(n);
      for (const t of n.outputs) if (!order.has(t)) order.set(t, order.size);
      stack.pop();
    }
  };
  for (const n of view.nodes) if (e.live.has(n) && !done.has(n)) visit(n);
  return order;
}

/** Counts per op ("TopKV2 x1, GatherV2 x3") and how to run them on the host. */
function describeCut(cut: CutNode[], outputs: string[]): string {
  const counts = new Map<string, number>();
  for (const n of cut) counts.set(n.op, (counts.get(n.op) ?? 0) + 1);
  // Ops with a host recipe first (NMS, top-k, arg-max...), then the rest by count.
  const rank = (op: string) => { const i = HOST_HINTS.findIndex(([re]) => re.test(op)); return i < 0 ? HOST_HINTS.length : i; };
  const ops = [...counts].sort((a, b) => rank(a[0]) - rank(b[0]) || b[1] - a[1] || a[0].localeCompare(b[0]));
  const shownOps = ops.slice(0, 8).map(([op, k]) => `${op} x${k}`).join(', ') + (ops.length > 8 ? `, ... (${ops.length} op types)` : '');
  const hints = [...new Set(ops.map(([op]) => HOST_HINTS.find(([re]) => re.test(op))?.[1]).filter((h): h is string => h !== undefined))];
  const shownOutputs = outputs.slice(0, 4).map((o) => `'${o}'`).join(', ') + (outputs.length > 4 ? `, ... (${outputs.length} tensors)` : '');
  return `cut before post-processing at ${shownOutputs}: ${cut.length} ops left to the host (${shownOps}); ` +
    `run them on the float outputs${hints.length ? ` (${hints.join('; ')})` : ''}, or with the source model's own post-processing code`;
}

/**
 * Where the graph should end so that its post-processing is left to the host, or undefined when it
 * has none. Errors are never raised here: what remains is imported as usual, and any unsupported op
 * or bad shape in it is reported as itself.
 */
export function findPostprocessCut(view: CutView): PostprocessCut | undefined {
  const e = edgesOf(view);
  const tail = tailOf(view, e);
  if (tail.size === 0) return undefined;
  const fromInputs = inputDependent(view, e);
  const order = tensorOrder(view, e);
  const kept = (t: string) => fromInputs.has(t) && !(e.producer.get(t) && tail.has(e.producer.get(t)!));
  const frontier = new Set<string>();
  for (const n of tail) for (const t of n.inputs) if (kept(t) && e.producer.has(t)) frontier.add(t);
  const keptOutputs = view.outputs.filter((t) => kept(t));
  let outputs = [...frontier].sort((a, b) => order.get(a)! - order.get(b)!);
  const single = keptOutputs.length === 0 && outputs.length ? commonSource(e, fromInputs, view, outputs, order) : undefined;
  outputs = single ? [single] : reduceFrontier(e, fromInputs, view, outputs, keptOutputs, order);
  outputs = [...keptOutputs, ...outputs.filter((t) => !keptOutputs.includes(t))];
  if (outputs.length === 0) return undefined;
  // Everything the new outputs do not need is left to the host (the tail, and what a single source skips).
  const needed = edgesOf({ ...view, outputs }).live;
  const cut = view.nodes.filter((n) => e.live.has(n) && !needed.has(n));
  // An unknown op that is not post-processing is never cut away: without a cut, the importer reports it.
  if (cut.some((n) => view.kind(n.op) === 'unknown' && !isCuttableOp(n.op))) return undefined;
  return { outputs, cut, note: describeCut(cut, outputs) };
}

/** Nodes the `outputs` need, walking up no further than the tensors of `stop`. */
function neededUpTo(e: Edges, outputs: string[], stop: Set<string>): Set<CutNode> {
  const needed = new Set<CutNode>();
  const stack = outputs.filter((t) => !stop.has(t)).map((t) => e.producer.get(t)).filter((n): n is CutNode => n !== undefined);
  while (stack.length) {
    const n = stack.pop()!;
    if (needed.has(n)) continue;
    needed.add(n);
    for (const t of n.inputs) {
      const p = e.producer.get(t);
      if (p && !stop.has(t) && !needed.has(p)) stack.push(p);
    }
  }
  return needed;
}

export interface PreprocessCut {
  /** The tensor the graph starts at instead of the graph inputs. */
  input: string;
  /** The nodes cut away before it. */
  cut: CutNode[];
  note: string;
}

/**
 * Pre-processing at the start of a graph that cannot be imported (a TF.js map/while loop that casts,
 * normalises and resizes each image): the earliest tensor after which nothing of it is needed by
 * `view.outputs` and through which every path from the inputs runs becomes the graph's input. Undefined
 * when the graph has no such loop before its learned layers.
 */
export function findPreprocessCut(view: CutView): PreprocessCut | undefined {
  const e = edgesOf(view);
  const blocking = (n: CutNode) => view.kind(n.op) === 'unknown' && isPostprocessOp(n.op);
  if (![...e.live].some(blocking)) return undefined;
  const weighted = [...e.live].filter((n) => view.kind(n.op) === 'weighted');
  if (weighted.length === 0) return undefined;
  const learned = downstream(e, weighted);
  const fromInputs = inputDependent(view, e);
  const order = tensorOrder(view, e);
  const candidates = [...order.keys()].filter((t) => fromInputs.has(t) && e.producer.has(t) && !learned.has(e.producer.get(t)!));
  const inputs = new Set(view.inputs);
  for (const t of candidates) {
    const needed = neededUpTo(e, view.outputs, new Set([t]));
    if ([...needed].some((n) => blocking(n) || n.inputs.some((x) => inputs.has(x)))) continue;
    const cut = [...e.live].filter((n) => !needed.has(n));
    const counts = new Map<string, number>();
    for (const n of cut) counts.set(n.op, (counts.get(n.op) ?? 0) + 1);
    const ops = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 8).map(([op, k]) => `${op} x${k}`).join(', ');
    return {
      input: t,
      cut,
      note: `cut after pre-processing: the graph starts at '${t}' instead of ${view.inputs.map((i) => `'${i}'`).join(', ')}; ` +
        `${cut.length} ops of pre-processing (${ops}${counts.size > 8 ? ', ...' : ''}) are left to the host, which feeds what they compute`,
    };
  }
  return undefined;
}
