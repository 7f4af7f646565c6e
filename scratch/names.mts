const { prepareGraph } = await import('../lib/quantize/stages.ts');
const p = await prepareGraph('/work/shared/fixtures/yolov5n_web_model/model.json', {});
console.log(p.graph.outputs);
console.log(p.graph.nodes.filter((n) => n.op === 'Conv2D').slice(-5).map((n) => n.name));
