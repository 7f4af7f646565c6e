#!/usr/bin/env node
// The yolo-int8 command: runs the compiled CLI (dist/, built by `npm run build`, or on install
// through the `prepare` script).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const cli = fileURLToPath(new URL('../dist/lib/cli/main.js', import.meta.url));
if (!existsSync(cli)) {
  process.stderr.write(
    `yolo-int8: the compiled CLI is missing (${cli}); run 'npm run build' in the yolo-int8 package first\n` +
      `(or run the TypeScript source directly: npx tsx lib/cli/main.ts <command> ...)\n`,
  );
  process.exit(1);
}
const { main } = await import(pathToFileURL(cli).href);
// process.exit: LiteRT / TF.js wasm workers can keep the event loop alive after the work is done.
process.exit(await main(process.argv.slice(2)));
