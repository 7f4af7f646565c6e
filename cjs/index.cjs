// yolo-int8 is an ES module (its op registry loads the op files with a top-level await, which
// Node's require() of ES modules cannot take): require('yolo-int8') lands here and says how to load it.
'use strict';
throw new Error(
  "yolo-int8 is an ES module: use `import { quantizeInt8 } from 'yolo-int8'` (ESM, .mjs or \"type\": \"module\"), " +
  "or from CommonJS `const { quantizeInt8 } = await import('yolo-int8')`",
);
