// The interleaved latency loop: every input through every model, the first model rotating per input,
// only the run itself timed, an optional untimed warm-up.
import { expect } from 'chai';
import { interleavedRunTimes } from '../../lib/runtime/latency.js';
import type { RuntimeArray } from '../../lib/runtime/index.js';

function recorder(log: string[], name: string) {
  return { run: async (inputs: RuntimeArray[]) => void log.push(`${name}:${inputs[0][0]}`) };
}

describe('runtime/latency: interleavedRunTimes', () => {
  it('rotates which model runs first, input by input and across rounds', async () => {
    const log: string[] = [];
    const runners = [recorder(log, 'a'), recorder(log, 'b'), recorder(log, 'c')];
    const times = await interleavedRunTimes(runners, 2, (_k, i) => [Float32Array.of(i)], { rounds: 2 });
    expect(log).to.deep.equal([
      'a:0', 'b:0', 'c:0', // turn 0
      'b:1', 'c:1', 'a:1', // turn 1
      'c:0', 'a:0', 'b:0', // round 2 continues the rotation
      'a:1', 'b:1', 'c:1',
    ]);
    expect(times.map((t) => t.length)).to.deep.equal([4, 4, 4]);
    expect(times.flat().every((t) => t >= 0)).to.equal(true);
  });

  it('warms every model up once on its input 0, untimed', async () => {
    const log: string[] = [];
    const times = await interleavedRunTimes([recorder(log, 'a'), recorder(log, 'b')], 1, (k, i) => [Float32Array.of(10 * k + i)], { warmUp: true });
    expect(log).to.deep.equal(['a:0', 'b:10', 'a:0', 'b:10']);
    expect(times.map((t) => t.length)).to.deep.equal([1, 1]);
  });

  it('prepares inputs (async) outside the timed run', async () => {
    const prepared: string[] = [];
    await interleavedRunTimes([{ run: async () => {} }], 3, async (k, i) => {
      prepared.push(`${k}/${i}`);
      return [new Float32Array(1)];
    });
    expect(prepared).to.deep.equal(['0/0', '0/1', '0/2']);
  });
});
