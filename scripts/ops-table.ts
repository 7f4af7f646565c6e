// Prints README.md's supported-ops table from the op registry (paste it between the ops markers).
//   npx tsx scripts/ops-table.ts
import { formatOpTable } from '../lib/ops/table.js';

console.log(formatOpTable());
