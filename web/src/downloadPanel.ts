/** Section 4: save the folded model as a TF.js model.json + weights.bin download. */
import type * as tf from '@tensorflow/tfjs';
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
    // 'downloads://NAME' saves NAME.json and NAME.weights.bin (the json names the weights file).
    await this.model.folded.save(`downloads://doconv-${this.model.name}-folded`);
  }
}
