/** `doconv export IN OUT --format tfjs|onnx`: parse, call exportModel (src/interop), print. */
import { Command, Option } from 'commander';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { exportFormats, exportModel, type ExportFormat } from '../../interop/onnx/exportModel.js';
import { checkFolderPath } from '../../train/savedModels.js';
import { pathText } from '../options.js';
import { type CliIO, keyValues } from '../print.js';

interface ExportFlags {
  format: ExportFormat;
  fuseBn: boolean;
  json?: boolean;
}

export function exportCommand(io: CliIO): Command {
  return new Command('export')
    .summary('export a saved model as folded TF.js or ONNX')
    .description(
      'Convert a saved TF.js model for deployment: a folded TF.js model (plain tfjs loads it) or an ONNX file.',
    )
    .argument('<in>', 'model.json, or a folder holding one', pathText)
    .argument('<out>', 'tfjs: a folder; onnx: the .onnx file', pathText)
    .addOption(
      new Option('--format <format>', 'output format').choices(exportFormats).makeOptionMandatory(),
    )
    .option('--no-fuse-bn', 'tfjs: keep BatchNorm layers separate')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ doconv export runs/quick/checkpoint deploy/ --format tfjs
  $ doconv export runs/quick/checkpoint model.onnx --format onnx`,
    )
    .action(async (input: string, output: string, flags: ExportFlags) => {
      await checkExportTarget(output, flags.format);
      const r = await exportModel(input, output, flags.format, { fuseBatchNorm: flags.fuseBn });
      io.out(
        flags.json
          ? JSON.stringify(r, null, 2)
          : keyValues([
              ['format', r.format],
              ['wrote', `${r.files.join(', ')} (${r.bytes} bytes)`],
            ]),
      );
    });
}

/** `out` must be a folder (tfjs) or a file (onnx) whose folder is not a file: named before any work. */
async function checkExportTarget(out: string, format: ExportFormat): Promise<void> {
  if (format !== 'onnx') return checkFolderPath('out', out);
  const stat = await fs.stat(out).catch(() => null);
  if (stat?.isDirectory()) {
    throw new Error(
      `out ${JSON.stringify(out)} is a folder; --format onnx writes a file (e.g. model.onnx)`,
    );
  }
  await checkFolderPath(`the folder of out ${JSON.stringify(out)},`, path.dirname(out));
}
