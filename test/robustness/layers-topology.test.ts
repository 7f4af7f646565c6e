// A layers model.json whose inbound nodes form a cycle, name a missing layer, or repeat a layer name
// (issue 21, item 2): one error naming the layer, at once, never a busy loop inside TF.js.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { expect } from 'chai';
import { importModel } from '../../lib/graph/importers/index.js';
import { checkLayersTopology } from '../../lib/graph/importers/layers-topology.js';
import { readyQuietly } from '../../lib/graph/backend.js';
import { tempDir } from '../support/tiny-model.js';

/** A saved functional model x -> dense d1 -> dense d2 (model.json + weights), its config editable. */
async function saveChain(dir: string): Promise<{ json: any; write: (json: any) => void }> {
  const x = tf.input({ shape: [4], name: 'x' });
  const d1 = tf.layers.dense({ units: 3, name: 'd1' }).apply(x) as tf.SymbolicTensor;
  const d2 = tf.layers.dense({ units: 2, name: 'd2' }).apply(d1) as tf.SymbolicTensor;
  const model = tf.model({ inputs: x, outputs: d2 });
  let json: any;
  await model.save(tf.io.withSaveHandler(async (art) => {
    json = { format: 'layers-model', modelTopology: art.modelTopology, weightsManifest: [{ paths: ['w.bin'], weights: art.weightSpecs }] };
    fs.writeFileSync(path.join(dir, 'w.bin'), Buffer.from(art.weightData as ArrayBuffer));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  model.dispose();
  return { json, write: (j) => fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(j)) };
}

const layersOf = (json: any): any[] => (json.modelTopology.model_config ?? json.modelTopology).config.layers;

async function importError(dir: string): Promise<{ message: string; seconds: number }> {
  const t0 = performance.now();
  try {
    await importModel(dir);
  } catch (e) {
    return { message: (e as Error).message, seconds: (performance.now() - t0) / 1000 };
  }
  throw new Error('expected the import to fail');
}

describe('layers model topology', function () {
  this.timeout(30_000);
  const dir = tempDir('layers-topology-');
  before(() => readyQuietly());
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('imports the unedited model (the edits below are the only defect)', async () => {
    const { json, write } = await saveChain(dir);
    write(json);
    expect((await importModel(dir)).nodes.length).to.be.greaterThan(0);
  });

  it('refuses a cycle, a missing layer and a repeated name, naming the layers, within a second', async () => {
    const { json, write } = await saveChain(dir);
    const cases: [string, (layers: any[]) => void, RegExp][] = [
      ['cycle', (ls) => { ls.find((l) => l.name === 'd1').inbound_nodes = [[['d2', 0, 0, {}]]]; }, /model\.json: the layers' inbound nodes form a cycle: 'd1' -> 'd2' -> 'd1'|'d2' -> 'd1' -> 'd2'/],
      ['missing', (ls) => { ls.find((l) => l.name === 'd2').inbound_nodes = [[['nope', 0, 0, {}]]]; }, /model\.json: layer 'd2' reads layer 'nope', which the model does not have/],
      ['duplicate', (ls) => { ls.find((l) => l.name === 'd2').name = 'd1'; }, /model\.json: two layers are named 'd1'; layer names must be unique/],
    ];
    for (const [what, edit, re] of cases) {
      const edited = structuredClone(json);
      edit(layersOf(edited));
      write(edited);
      const { message, seconds } = await importError(dir);
      expect(message, what).to.match(re);
      expect(seconds, what).to.be.lessThan(1);
    }
  });

  it('walks a 100,000-layer chain without recursion limits', () => {
    const layers = Array.from({ length: 100_000 }, (_, i) => ({ name: `l${i}`, inbound_nodes: i ? [[[`l${i - 1}`, 0, 0, {}]]] : [] }));
    expect(() => checkLayersTopology({ layers }, 'chain')).to.not.throw();
    layers[0].inbound_nodes = [[['l99999', 0, 0, {}]]];
    expect(() => checkLayersTopology({ layers }, 'chain')).to.throw(/^chain: the layers' inbound nodes form a cycle: 'l0' -> 'l99999' -> 'l99998' -> 'l99997' -> \.\.\. \(99994 more\) -> 'l2' -> 'l1' -> 'l0'$/);
  });
  it('a graph-model topology under format layers-model: one short error naming the model.json', async () => {
    // Found by scripts/hostile-table.ts: TF.js said "layer: Improper config format: {<the whole topology>}" and no file.
    const dir = tempDir('layers-graph-');
    const file = path.join(dir, 'model.json');
    fs.writeFileSync(file, JSON.stringify({ format: 'layers-model', modelTopology: { node: [{ name: 'x', op: 'Placeholder', attr: {} }], versions: {} }, weightsManifest: [] }));
    const { message } = await importError(dir);
    expect(message.startsWith(`${file}: TF.js cannot build this layers model`), message).to.equal(true);
    expect(message.length).to.be.below(300);
  });
});
