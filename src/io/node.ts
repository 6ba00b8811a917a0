/**
 * Node file IO, as re-exported by `doconv/node`. Importing this module registers the `file://` router,
 * so `model.save('file://dir')` and `tf.loadLayersModel('file://dir/model.json')` work in plain Node.
 */
import { registerFileSystemRouter } from './fileSystemIO.js';

export {
  FileSystemHandler,
  fileSystem,
  registerFileSystemRouter,
  MODEL_JSON_NAME,
  WEIGHTS_BIN_NAME,
} from './fileSystemIO.js';
export { replaceFilesAtomically, type FileToWrite } from './atomicFiles.js';

registerFileSystemRouter();
