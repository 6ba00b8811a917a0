/** `doconv export IN OUT --format tfjs|onnx`: parse, call exportModel (src/interop), print. */
import { Command, Option } from 'commander';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { exportFormats, exportModel, type ExportFormat } from '../../interop/onnx/exportModel.js';
import { MODEL_JSON_NAME } from '../../io/fileSystemIO.js';
import { checkFolderPath } from '../../train/savedModels.js';
import { pathText } from '../options.js';
import { type CliIO, keyValues } from '../print.js';

interface ExportFlags {
  format: ExportFormat;
  fuseBn: boolean;
  overwrite?: boolean;
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
    .option('--overwrite', 'replace a model or file already at <out>')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ doconv export runs/quick/checkpoint deploy/ --format tfjs
  $ doconv export runs/quick/checkpoint model.onnx --format onnx`,
    )
    .action(async (input: string, output: string, flags: ExportFlags) => {
      await checkExportTarget(output, flags.format, flags.overwrite ?? false);
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

/**
 * `out` must be a folder (tfjs) or a file (onnx) whose folder is not a file, and must not hold a
 * model (tfjs) or be a file (onnx) already unless --overwrite (as train and import): named before
 * any work.
 */
async function checkExportTarget(
  out: string,
  format: ExportFormat,
  overwrite: boolean,
): Promise<void> {
  const exists = async (p: string) => (await fs.lstat(p).catch(() => null)) !== null;
  const taken = (what: string) =>
    new Error(`${what}; choose another <out> or pass --overwrite to replace it`);
  if (format !== 'onnx') {
    await checkFolderPath('out', out);
    if (!overwrite && (await exists(path.join(out, MODEL_JSON_NAME)))) {
      throw taken(`out ${JSON.stringify(out)} already holds a model (${MODEL_JSON_NAME})`);
    }
    return;
  }
  const stat = await fs.stat(out).catch(() => null);
  if (stat?.isDirectory()) {
    throw new Error(
      `out ${JSON.stringify(out)} is a folder; --format onnx writes a file (e.g. model.onnx)`,
    );
  }
  if (!overwrite && (await exists(out))) throw taken(`out ${JSON.stringify(out)} already exists`);
  await checkFolderPath(`the folder of out ${JSON.stringify(out)},`, path.dirname(out));
}
