/** Section 4: save the folded model as a TF.js model.json + weights.bin download. */
import type * as tf from '@tensorflow/tfjs';
// tfjs-core registers the 'downloads://' save router as a side effect of this module. Nothing the page
// imports names anything from it, and the bundler (rolldown) then drops the whole module despite
// tfjs-core's sideEffects list, so save('downloads://…') would find no handler. Import it for its effect.
import '@tensorflow/tfjs-core/dist/io/browser_files.js';
import { byId } from './dom.js';

export class DownloadPanel {
  private readonly button = byId('download', HTMLButtonElement);
  private model: { folded: tf.LayersModel; name: string } | null = null;

  constructor() {
    this.button.addEventListener('click', () => void this.download());
  }

  setModel(folded: tf.LayersModel | null, modelName = ''): void {
    this.model = folded ? { folded, name: modelName } : null;
    this.button.disabled = folded === null;
  }

  private async download(): Promise<void> {
    if (!this.model) return;
    // Saves NAME.json and NAME.weights.bin (the json names the weights file).
    await this.model.folded.save(`downloads://doconv-${this.model.name}-folded`);
  }
}
