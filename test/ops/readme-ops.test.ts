// README.md's supported-ops table is the registry's (lib/ops/table.ts): adding an op file without
// regenerating the table fails here.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { formatOpTable } from '../../lib/ops/table.js';
import { OP_DEFS } from '../../lib/ops/registry.js';

describe('README ops table', () => {
  it('is the table the registry gives (npx tsx scripts/ops-table.ts)', () => {
    const readme = fs.readFileSync(path.resolve(import.meta.dirname, '../../README.md'), 'utf8');
    const m = /<!-- ops:begin -->\n([\s\S]*?)\n<!-- ops:end -->/.exec(readme);
    expect(m, 'README.md has the <!-- ops:begin --> / <!-- ops:end --> markers').to.not.equal(null);
    expect(m![1]).to.equal(formatOpTable());
    // One row per registered op (header and rule aside).
    expect(m![1].split('\n').length - 2).to.equal(OP_DEFS.length);
  });
});
