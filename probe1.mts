import { importTfjsGraphModel } from '/work/main/lib/graph/importers/tfjs-graph.ts';
const t0 = Date.now();
const g = await importTfjsGraphModel('/work/shared/fixtures/yolov5n_web_model');
console.log(Date.now()-t0, 'ms', g.nodes.length, g.inputs, g.outputs, g.meta, g.tensors.get(g.outputs[0])?.shape);
const c: Record<string, number> = {}; for (const n of g.nodes) c[n.op]=(c[n.op]??0)+1; console.log(c);
