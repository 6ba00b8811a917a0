/**
 * How healthy is a trained centernet-mini's head? For each saved model (a run's checkpoint/ or
 * folded/ folder) on the mnist-scenes test split: AP@[.5:.95] per class, how many of the head trunk's
 * ReLU units (`head_conv`, a 3×3 conv without BatchNorm) fire anywhere on the test scenes, and the
 * mean heatmap logit at object centres per class. Dead trunk units were why one seed in three
 * plateaued at half the others' AP (results/README.md#detection-warm-up).
 *
 *     npx tsx bench/detectionHeads.ts RUN_OR_MODEL_FOLDER... [--test-limit N] [--out FILE.json]
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { fileSystem, loadModel, useBestBackend } from '../src/node.js';
import { loadMnistScenes } from '../src/data/mnistScenes.js';
import { sliceScenes } from '../src/data/scenes.js';
import { sceneBatches } from '../src/data/sceneBatches.js';
import { evaluateTask } from '../src/train/sceneEvaluation.js';
import { machineRecord } from './resultFile.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'test-limit': { type: 'string', default: '1000' },
    out: { type: 'string' },
  },
});
if (positionals.length === 0) {
  throw new Error(
    'give one or more run folders (with checkpoint/) or model folders (with model.json)',
  );
}

/** A run folder's checkpoint model, else the folder's own model.json. */
function modelJsonOf(folder: string): string {
  const checkpoint = join(folder, 'checkpoint', 'model.json');
  return existsSync(checkpoint) ? checkpoint : join(folder, 'model.json');
}

interface HeadHealth {
  folder: string;
  ap: number;
  perClassAP: number[];
  aliveTrunkUnits: number;
  trunkUnits: number;
  meanCentreLogit: number[];
}

function headHealth(model: tf.LayersModel, folder: string, scenes: ReturnType<typeof sliceScenes>) {
  const evaluation = evaluateTask(model, scenes, 'detection');
  const trunk = model.getLayer('head_conv').output as tf.SymbolicTensor;
  const probe = tf.model({ inputs: model.inputs, outputs: [trunk, model.outputs[0]] });
  const classes = evaluation.detection!.perClassAP.length;
  const units = trunk.shape[3]!;
  const firing = new Float64Array(units);
  const centreSum = new Float64Array(classes);
  const centreCount = new Float64Array(classes);
  for (const { xs, ys } of sceneBatches(scenes, 100, { task: 'detection' })) {
    tf.tidy(() => {
      const [t, out] = probe.predict(xs) as tf.Tensor[];
      const fired = tf.max(t, [0, 1, 2]).dataSync();
      fired.forEach((v, i) => (firing[i] = Math.max(firing[i], v)));
      const logits = out.slice([0, 0, 0, 0], [-1, -1, -1, classes]);
      const centres = tf.cast(
        tf.equal(ys.slice([0, 0, 0, 0], [-1, -1, -1, classes]), 1),
        'float32',
      );
      tf.sum(tf.mul(logits, centres), [0, 1, 2])
        .dataSync()
        .forEach((v, c) => (centreSum[c] += v));
      tf.sum(centres, [0, 1, 2])
        .dataSync()
        .forEach((v, c) => (centreCount[c] += v));
    });
    tf.dispose([xs, ys]);
  }
  return {
    folder,
    ap: evaluation.score,
    perClassAP: evaluation.detection!.perClassAP.map((v) => v ?? 0),
    aliveTrunkUnits: Array.from(firing).filter((v) => v > 0).length,
    trunkUnits: units,
    meanCentreLogit: Array.from(centreSum, (s, c) => s / Math.max(1, centreCount[c])),
  } satisfies HeadHealth;
}

await useBestBackend();
const scenes = sliceScenes(
  await loadMnistScenes({ split: 'test' }),
  0,
  Number(values['test-limit']),
);
const rows: HeadHealth[] = [];
for (const folder of positionals) {
  const model = await loadModel(fileSystem(modelJsonOf(folder)));
  const row = headHealth(model, folder, scenes);
  model.dispose();
  rows.push(row);
  const fixed = (xs: number[], d: number) => xs.map((v) => v.toFixed(d)).join(' ');
  console.log(
    `${folder}: AP ${(100 * row.ap).toFixed(2)} %, head_conv units firing ${row.aliveTrunkUnits}/${row.trunkUnits}\n` +
      `  AP per class ${fixed(row.perClassAP, 2)}\n  mean centre logit ${fixed(row.meanCentreLogit, 2)}`,
  );
}
if (values.out) {
  const command = `npx tsx bench/detectionHeads.ts ${process.argv.slice(2).join(' ')}`;
  writeFileSync(
    values.out,
    JSON.stringify(
      { command, date: new Date().toISOString(), machine: machineRecord(), rows },
      null,
      2,
    ) + '\n',
  );
}
