/** `doconv predict MODEL IMAGES…`: parse, call predictFiles, print. */
import { Command, Option } from 'commander';
import { BACKEND_CHOICES, type BackendChoice, selectBackend } from '../../train/index.js';
import { type ImagePrediction, predictFiles, type PredictReport } from '../../train/predict.js';
import { PREDICT_TASKS, type PredictTask } from '../../train/predictor.js';
import { argParser, pathText, positiveInt } from '../options.js';
import { type CliIO, percent } from '../print.js';
import { numberParser } from '../textParsers.js';

interface PredictFlags {
  topK?: number;
  minScore?: number;
  maxObjects?: number;
  masks?: string;
  annotate?: string;
  task?: PredictTask;
  backend: BackendChoice;
  json?: boolean;
}

const fraction = argParser(numberParser({ min: 0, max: 1 }));

export function predictCommand(io: CliIO): Command {
  return (
    new Command('predict')
      .summary('predict on image files: classes, masks or boxes')
      .description(
        'Run a trained model on PNG/JPEG images (files, or folders of them): the top classes with their probabilities (classification),\n' +
          'a class per pixel (segmentation; --masks writes label PNGs), or boxes (detection; --annotate draws them).\n' +
          "Images are converted to the model's channels and resized (bilinear) to its input; class names and normalisation come from the model's metadata.",
      )
      .argument(
        '<model>',
        'a run folder (its folded/ model), a model folder or a model.json',
        pathText,
      )
      // (No argParser: commander hands a variadic argument's parser one value at a time.)
      .argument('<images...>', 'image files, or folders of them')
      .addOption(
        new Option('--top-k <n>', 'classification: classes to show (default 5)').argParser(
          positiveInt,
        ),
      )
      .addOption(
        new Option(
          '--min-score <s>',
          'detection: keep boxes scoring at least this (default 0.3)',
        ).argParser(fraction),
      )
      .addOption(
        new Option(
          '--max-objects <n>',
          'detection: boxes per image at most (default 20)',
        ).argParser(positiveInt),
      )
      .addOption(
        new Option(
          '--masks <dir>',
          'segmentation: write each mask as DIR/<image>.png (gray value = class index)',
        ).argParser(pathText),
      )
      .addOption(
        new Option(
          '--annotate <dir>',
          'detection: write each image with its boxes drawn as DIR/<image>.png',
        ).argParser(pathText),
      )
      .addOption(
        new Option(
          '--task <task>',
          "the model's task, when its metadata does not say (a TF.js model of your own)",
        ).choices(PREDICT_TASKS),
      )
      .addOption(new Option('--backend <name>', 'backend').choices(BACKEND_CHOICES).default('auto'))
      .option('--json', 'print the predictions as JSON')
      .addHelpText(
        'after',
        `
Examples:
  $ doconv predict runs/pets photos/cat.jpg photos/dog.png
  $ doconv predict runs/pets/folded/model.json photos/ --top-k 3 --json
  $ doconv predict runs/det scenes/ --annotate runs/det/annotated --min-score 0.5`,
      )
      .action(async (model: string, images: string[], flags: PredictFlags) => {
        await selectBackend(flags.backend, io.err);
        const report = await predictFiles(model, images, {
          topK: flags.topK,
          minScore: flags.minScore,
          maxObjects: flags.maxObjects,
          maskDir: flags.masks,
          annotateDir: flags.annotate,
          task: flags.task,
        });
        io.err(`inference: ${report.inference}`);
        io.out(flags.json ? JSON.stringify(jsonReport(report), null, 2) : textReport(report));
        for (const s of report.skipped) io.err(`skipped ${s.reason}`);
        if (report.skipped.length > 0) {
          io.err(
            `${report.skipped.length} of ${report.skipped.length + report.predictions.length} file(s) skipped`,
          );
        }
      })
  );
}

/** The report with each mask's pixels left out (they are in the PNGs --masks writes). */
function jsonReport({ inference: _inference, ...r }: PredictReport): object {
  return {
    ...r,
    predictions: r.predictions.map(({ mask, ...p }) =>
      mask ? { ...p, mask: { height: mask.height, width: mask.width, counts: mask.counts } } : p,
    ),
  };
}

/** One line per image. */
function textReport(r: PredictReport): string {
  const lines = [`${r.model} (${r.task}, input ${r.inputShape.join('×')})`];
  for (const p of r.predictions) lines.push(`${p.file}  ${describe(p)}`);
  return lines.join('\n');
}

function describe(p: ImagePrediction): string {
  const label = (index: number, name: string | null) => name ?? String(index);
  if (p.top)
    return p.top
      .map((c) => `${label(c.classIndex, c.className)} ${percent(c.probability)}`)
      .join(', ');
  if (p.mask) {
    const total = p.mask.height * p.mask.width;
    const shares = Object.entries(p.mask.counts)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${percent(n / total, 1)}`)
      .join(', ');
    return `mask ${p.mask.height}×${p.mask.width}${p.maskFile ? ` → ${p.maskFile}` : ''} (${shares})`;
  }
  const objects = p.objects ?? [];
  const boxes = objects.map(
    (o) =>
      `${label(o.classIndex, o.className)} ${o.score.toFixed(2)} [${o.box.map((v) => Math.round(v)).join(', ')}]`,
  );
  return `${objects.length} object(s)${p.annotatedFile ? ` → ${p.annotatedFile}` : ''}${boxes.length ? ': ' + boxes.join('; ') : ''}`;
}
