/** `doconv import CHECKPOINT --model M --out DIR`: parse, call importPytorchCheckpoint, print. */
import { Command, Option } from 'commander';
import { DATASET_NAMES, type DatasetName } from '../../data/loadDataset.js';
import { STATE_DICT_LAYOUTS, type StateDictLayout } from '../../interop/stateDictMap.js';
import type { StateDictComposition } from '../../interop/pytorchStateDict.js';
import { convKinds, type ConvKind } from '../../models/index.js';
import { importPytorchCheckpoint } from '../../train/importCheckpoint.js';
import { BACKEND_CHOICES, type BackendChoice, selectBackend } from '../../train/index.js';
import { existingDir, positiveInt, zooNameOrModelPath } from '../options.js';
import { type CliIO, keyValues, percent } from '../print.js';

interface ImportFlags {
  model?: string;
  conv?: ConvKind;
  composition?: StateDictComposition;
  out: string;
  overwrite?: boolean;
  info?: string | false;
  dataset?: DatasetName;
  dataDir?: string;
  testLimit?: number;
  layout: StateDictLayout | 'auto';
  backend: BackendChoice;
  json?: boolean;
}

export function importCommand(io: CliIO): Command {
  return new Command('import')
    .summary('import a PyTorch checkpoint of a zoo model or of your own model.json')
    .description(
      'Import a PyTorch state_dict (.safetensors) into the zoo model it was trained as, or into your own model ' +
        '(--model path/model.json: its architecture, as saved unless --conv converts it), and write a model folder ' +
        'that `doconv eval`, `fold` and `export` take. The state_dict mapping is derived from the model: keys ' +
        "named after the TF.js layers (tools/train_ddp.py writes them so) or an nn.Sequential's indices (the " +
        'official PyTorch sample).\n' +
        "Model, conv kind and data set default to the checkpoint's JSON (<checkpoint>.json, written by " +
        "tools/train_ddp.py); with --dataset, the imported model is evaluated and its accuracy printed next to PyTorch's.\n" +
        'A segmentation or detection net (deeplab-mini, centernet-mini) is recorded as such: `doconv eval` scores it on mnist-scenes.',
    )
    .argument('<checkpoint>', 'the .safetensors file (tools/save_safetensors.py converts a .pt)')
    .addOption(
      new Option(
        '--model <name>',
        "zoo model (default: the JSON's), or your own model (path/model.json)",
      ).argParser(zooNameOrModelPath),
    )
    .addOption(
      new Option(
        '--conv <kind>',
        "conv kind (default: the JSON's, else doconv when keys end in .W)",
      ).choices(convKinds),
    )
    .addOption(
      new Option(
        '--composition <kind>',
        "how the checkpoint's DO-Conv layers compose D and W (grouped convs differ): the official DOConv2d's or tools/doconv_torch's (default: the JSON's, else pytorch-official)",
      ).choices(['pytorch-official', 'definition']),
    )
    .requiredOption('--out <dir>', 'folder to write (model.json, weights.bin, import.json)')
    .option('--overwrite', 'replace --out if it exists')
    .option('--info <file>', "the checkpoint's JSON (default: <checkpoint>.json beside it)")
    .option('--no-info', 'ignore any JSON beside the checkpoint')
    .addOption(
      new Option(
        '--dataset <name>',
        'evaluate on this data set and record it in the model (classifiers)',
      ).choices(DATASET_NAMES),
    )
    .addOption(
      new Option('--data-dir <dir>', 'folder with the dataset files').argParser(existingDir),
    )
    .addOption(
      new Option(
        '--test-limit <n>',
        "evaluate on the first N test images (default: the JSON's test slice)",
      ).argParser(positiveInt),
    )
    .addOption(
      new Option('--layout <layout>', 'how state_dict keys name layers')
        .choices(['auto', ...STATE_DICT_LAYOUTS])
        .default('auto'),
    )
    .addOption(new Option('--backend <name>', 'backend').choices(BACKEND_CHOICES).default('auto'))
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ doconv import runs/pt/checkpoint.safetensors --out runs/imported --dataset mnist
  $ doconv fold runs/imported runs/imported-folded --verify 1000
  $ doconv export runs/imported model.onnx --format onnx
  $ doconv import sample_pt.safetensors --model pt-mnist-sample --out runs/official   # the official sample's state_dict
  $ doconv import mine.safetensors --model my-net/model.json --composition definition --out runs/mine   # your own model

runs/pt/ from PyTorch DDP (docs/scale.md; tools/ is in doconv's repository, not in the npm package):
  $ python3 tools/train_ddp.py --nproc 2 --model tf-mnist-sample --epochs 1 --out runs/pt`,
    )
    .action(async (checkpoint: string, flags: ImportFlags) => {
      await selectBackend(flags.backend, io.err);
      const r = await importPytorchCheckpoint({
        checkpoint,
        model: flags.model,
        conv: flags.conv,
        composition: flags.composition,
        out: flags.out,
        overwrite: flags.overwrite,
        info: flags.info === false ? null : flags.info,
        dataset: flags.dataset,
        dataDir: flags.dataDir,
        testLimit: flags.testLimit,
        layout: flags.layout,
        onWarning: (m) => io.err(`warning: ${m}`),
      });
      if (flags.json) {
        io.out(JSON.stringify(r, null, 2));
        return;
      }
      const rows: [string, string][] = [
        ['imported', `${r.checkpoint} → ${r.out}`],
        [
          'model',
          `${r.model} (${r.conv}${r.task === 'classification' ? '' : `, ${r.task}`}), ${r.parameters} parameters`,
        ],
        [
          'keys',
          `${r.layout} layout, ${Object.keys(r.map).length} layers, ${r.composition} DO-Conv composition`,
        ],
      ];
      if (r.pytorch)
        rows.push([
          'PyTorch',
          `${percent(r.pytorch.accuracy)} on ${r.pytorch.count} ${r.pytorch.dataset} test images (${r.info})`,
        ]);
      if (r.tfjs)
        rows.push([
          'TF.js',
          `${percent(r.tfjs.accuracy)} on ${r.tfjs.count} ${r.tfjs.dataset} test images`,
        ]);
      io.out(keyValues(rows));
    });
}
