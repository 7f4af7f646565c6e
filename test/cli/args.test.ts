// The command-line helpers of lib/cli/args.ts against hand-computed answers.
import { expect } from 'chai';
import { closestWord, editDistance, joinNegativeValues } from '../../lib/cli/args.js';

describe('cli/args: typo suggestions and negative option values', () => {
  it('editDistance counts insertions, deletions, substitutions and adjacent swaps', () => {
    expect(editDistance('calib', 'calib')).to.equal(0);
    expect(editDistance('calb', 'calib')).to.equal(1); // one deletion
    expect(editDistance('clib', 'calib')).to.equal(1);
    expect(editDistance('cailb', 'calib')).to.equal(1); // 'il' <-> 'li': one transposition
    expect(editDistance('kitten', 'sitting')).to.equal(3); // k->s, e->i, +g
    expect(editDistance('', 'abc')).to.equal(3);
  });

  it('closestWord: near words are suggested, far ones are not', () => {
    const opts = ['--calib', '--num', '--method', '--output', '--no-save'];
    expect(closestWord('--calb', opts)).to.equal('--calib');
    expect(closestWord('--methdo', opts)).to.equal('--method');
    expect(closestWord('--nosave', opts)).to.equal('--no-save');
    expect(closestWord('--outp', opts)).to.equal('--output'); // a prefix of one option only
    expect(closestWord('--zzzzzz', opts)).to.equal(undefined);
    expect(closestWord('quantise', ['quantize', 'eval'])).to.equal('quantize');
    expect(closestWord('frobnicate', ['quantize', 'eval'])).to.equal(undefined);
  });

  it('joinNegativeValues joins a negative number to the value option before it, long or short', () => {
    const options = { num: { type: 'string', short: 'n' }, json: { type: 'boolean' }, 'min-sqnr': { type: 'string' } } as const;
    expect(joinNegativeValues(['--num', '-3', 'm'], options)).to.deep.equal(['--num=-3', 'm']);
    expect(joinNegativeValues(['-n', '-3'], options)).to.deep.equal(['--num=-3']);
    expect(joinNegativeValues(['--min-sqnr', '-1.5e-2'], options)).to.deep.equal(['--min-sqnr=-1.5e-2']);
    expect(joinNegativeValues(['--min-sqnr', '-.5'], options)).to.deep.equal(['--min-sqnr=-.5']);
    // A list that starts with a negative number (--input-range -1,1).
    expect(joinNegativeValues(['--num', '-1,1'], options)).to.deep.equal(['--num=-1,1']);
    expect(joinNegativeValues(['--num', '-1,x'], options)).to.deep.equal(['--num', '-1,x']);
    // Not a number, or after a boolean option: left for the parser (an unknown option '-x').
    expect(joinNegativeValues(['--num', '-x'], options)).to.deep.equal(['--num', '-x']);
    expect(joinNegativeValues(['--json', '-3'], options)).to.deep.equal(['--json', '-3']);
  });
});
