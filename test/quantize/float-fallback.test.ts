// An op TFLite has no integer kernel for (Sqrt) does not stop a default quantization: it is written in
// float between DEQUANTIZE and QUANTIZE, the report says so, and the model agrees with the float graph.
import { expect } from 'chai';
import { GraphBuilder } from '../../lib/graph/builder.js';
import { quantizeInt8 } from '../../lib/quantize/index.js';
import { formatQuantizeReport } from '../../lib/quantize/report.js';
import { formatInspectReport, groupNotInt8, inspectTflite } from '../../lib/tflite/inspect.js';
import { readTflite } from '../../lib/tflite/reader.js';
import { builtinOperatorName } from '../../lib/tflite/operators.js';
import { mulberry32 } from '../../lib/util/random.js';
import { sqnrDb, tfliteVsFloat } from '../support/compare.js';

function sqrtGraph() {
  const b = new GraphBuilder('sqrt-model');
  const x = b.addInput('input', [1, 8, 8, 3]);
  const r = mulberry32(3);
  const w = b.addConstant('w', [1, 1, 3, 4], 'float32', Float32Array.from({ length: 12 }, () => r() - 0.3));
  const [c] = b.emit('conv', 'Conv2D', [x, w], { strides: [1, 1], padding: 'VALID', dilations: [1, 1], activation: 'relu' });
  const [s] = b.emit('sqrt', 'Sqrt', [c], {});
  const [y] = b.emit('out', 'Mul', [s, b.addConstant('k', [1], 'float32', Float32Array.of(2))], {});
  return b.build([y], { source: 'sqrt-model', format: 'built', notes: [] });
}

describe('ops without an integer kernel', () => {
  it('run in float inside an otherwise int8 model, with a note', async () => {
    const r = mulberry32(9);
    const inputs = Array.from({ length: 12 }, () => Float32Array.from({ length: 192 }, () => Math.round(r() * 255) / 255));
    const { tflite, report } = await quantizeInt8(sqrtGraph(), { representativeDataset: inputs.slice(0, 8), numCalibrationSamples: 8, backend: 'wasm' });
    expect(report.notes.join('\n')).to.match(/Sqrt \(1 node: sqrt\) written in float: TFLite has no int8 kernel for it/);
    expect(report.allInteger).to.equal(false);
    const model = readTflite(tflite);
    const ops = model.subgraphs[0].operators.map((o) => builtinOperatorName(model.operatorCodes[o.opcodeIndex].builtinCode));
    expect(ops).to.deep.equal(['CONV_2D', 'DEQUANTIZE', 'SQRT', 'QUANTIZE', 'MUL']);
    // The report and inspect count the same file: 5 operators, 2 of them conversions, one not int8, and say why.
    const text = formatQuantizeReport(report);
    expect(text).to.contain('precision: mixed - 2 ops int8, 1 float (sqrt); 2 precision conversions; NOT full-integer (float ops); written as 5 TFLite operators, 2 of them QUANTIZE/DEQUANTIZE');
    expect(text).to.contain('  not int8: Sqrt (1 node: sqrt) written in float: TFLite has no int8 kernel for it');
    const inspected = formatInspectReport(inspectTflite(tflite, 'sqrt.tflite'));
    expect(inspected).to.contain('sqrt.tflite: ' + tflite.length + ' bytes, 1 subgraph(s), 5 operators');
    expect(inspected).to.contain('precision: 2 int8, 0 int16, 1 float ops, 2 QUANTIZE/DEQUANTIZE; NOT full-integer');
    expect(inspected).to.match(/ops not int8 \(1\):\n  SQRT float x1 \(TFLite has no integer kernel for it \(float only\)\) -> sqrt/);
    const { signal, noise } = await tfliteVsFloat(tflite, sqrtGraph(), inputs.slice(8));
    expect(sqnrDb(signal, noise)).to.be.greaterThan(30);
  });

  it('inspect lists each op that is not int8 once, with a count, the reason and a few outputs', () => {
    const list = Array.from({ length: 5 }, (_, i) => ({ op: 'LOGISTIC', output: `s${i}`, precision: 'float' as const, reason: 'r1' }));
    list.push({ op: 'CONV_2D', output: 'c', precision: 'float', reason: 'r2' });
    expect(groupNotInt8(list)).to.deep.equal(['LOGISTIC float x5 (r1) -> s0, s1, s2, ...', 'CONV_2D float x1 (r2) -> c']);
  });
});
