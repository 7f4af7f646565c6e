import fs from 'node:fs';
import { writeResultsSection } from '../bench/results.ts';
const log = fs.readFileSync('/tmp/precision.log', 'utf8').trimEnd();
writeResultsSection('bench/precision.ts YOLOv5n', 'npm run bench:precision', 'Mixed precision on YOLOv5n: what int16 and float layers cost', log);
