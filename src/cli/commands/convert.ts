/** `doconv convert IN OUT`: parse, call convertSavedModel, print. */
import { Command } from 'commander';
import { convertSavedModel } from '../../interop/convertSavedModel.js';
import { pathText } from '../options.js';
import { type CliIO, keyValues } from '../print.js';

export function convertCommand(io: CliIO): Command {
  return new Command('convert')
    .summary('turn a trained conv model into DO-Conv (same outputs), to fine-tune')
    .description(
      'Over-parameterize a saved TF.js model: every Conv1D / Conv2D / DepthwiseConv2D / SeparableConv2D with a kernel\n' +
        'larger than 1 becomes DO-Conv / DO-DConv starting from the trained kernel (D = 0, W = the kernel), so the new model\n' +
        'computes exactly what the old one did. Fine-tune it with `doconv train --model OUT/model.json`; its folded model\n' +
        'has the original layer classes and shapes and loads with plain @tensorflow/tfjs.',
    )
    .argument('<in>', 'model.json, or a folder holding one', pathText)
    .argument('<out>', 'folder to write model.json + weights.bin into', pathText)
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ doconv convert runs/conv/folded runs/converted
  $ doconv train --model runs/converted/model.json --conv doconv --epochs 2 --out runs/finetuned`,
    )
    .action(async (input: string, output: string, flags: { json?: boolean }) => {
      const r = await convertSavedModel(input, output);
      io.out(
        flags.json
          ? JSON.stringify(r, null, 2)
          : keyValues([
              ['converted', `${r.input} → ${r.output}`],
              ['DO layers', r.converted.length > 0 ? r.converted.join('; ') : 'none'],
              ...(r.kept.length > 0 ? [['kept', r.kept.join('; ')] as [string, string]] : []),
              ['parameters', `${r.parameters.before} → ${r.parameters.after}`],
            ]),
      );
    });
}
