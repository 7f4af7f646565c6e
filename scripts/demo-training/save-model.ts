// Writes a TF.js layers model with fs (no tfjs-node, so no file:// IO handler): the counterpart of
// lib/demo/model.ts's fsLoadHandler, used to save the trained demo detector.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';

/** tf.io handler that writes model.json + weights.bin (one shard) into `dir` with fs. */
export function fsSaveHandler(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (!(artifacts.weightData instanceof ArrayBuffer)) throw new Error(`fsSaveHandler(${dir}): expected one ArrayBuffer of weights`);
      fs.mkdirSync(dir, { recursive: true });
      const weightsManifest: tf.io.WeightsManifestConfig = [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }];
      const modelJson = {
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        modelTopology: artifacts.modelTopology,
        weightsManifest,
        userDefinedMetadata: artifacts.userDefinedMetadata,
      };
      fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(artifacts.weightData));
      fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(modelJson));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
  };
}
