// Runs the CLI in this (child) process and reports, after its output, how long main() ran and the
// process's peak RSS: "cli-rss <seconds> <maxRSS KiB>" as the last stderr line (robustness/bounds.test.ts).
import { main } from '../../lib/cli/main.js';

const t0 = performance.now();
const code = await main(process.argv.slice(2));
process.stderr.write(`cli-rss ${((performance.now() - t0) / 1000).toFixed(3)} ${process.resourceUsage().maxRSS}\n`);
process.exit(code);
