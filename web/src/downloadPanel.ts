/**
 * Section 4: save the folded model as a TF.js download, doconv-MODEL-folded.json plus
 * doconv-MODEL-folded.weights.bin, and say so on the page once the browser has been handed both.
 */
import type * as tf from '@tensorflow/tfjs';
// tfjs-core registers the 'downloads://' save router as a side effect of this module. Nothing the page
// imports names anything from it, and the bundler (rolldown) then drops the whole module despite
// tfjs-core's sideEffects list, so save('downloads://…') would find no handler. Import it for its effect.
import '@tensorflow/tfjs-core/dist/io/browser_files.js';
import { byId } from './dom.js';
import * as fmt from './format.js';

/** The files' common stem; tfjs names them STEM.json and STEM.weights.bin. */
export const fileStem = (modelName: string) => `doconv-${modelName}-folded`;

export class DownloadPanel {
  private readonly button = byId('download', HTMLButtonElement);
  private readonly status = byId('download-status', HTMLParagraphElement);
  private model: { folded: tf.LayersModel; name: string } | null = null;

  /** `modelSelect`: the file names follow its choice until a model is trained. */
  constructor(private readonly modelSelect: HTMLSelectElement) {
    this.button.addEventListener('click', () => void this.download());
    modelSelect.addEventListener('change', () => this.model || this.showNames(modelSelect.value));
    this.showNames(modelSelect.value);
  }

  setModel(folded: tf.LayersModel | null, modelName = ''): void {
    this.model = folded ? { folded, name: modelName } : null;
    this.button.disabled = folded === null;
    this.showNames(folded ? modelName : this.modelSelect.value);
    delete this.status.dataset.saved;
    this.status.textContent = folded
      ? 'Ready: the button saves both files.'
      : 'Train first; the button saves both files.';
  }

  private showNames(modelName: string): void {
    for (const stem of document.querySelectorAll('.file-stem'))
      stem.textContent = fileStem(modelName);
  }

  private async download(): Promise<void> {
    if (!this.model) return;
    const stem = fileStem(this.model.name);
    try {
      const result = await this.model.folded.save(`downloads://${stem}`);
      const bytes = result.modelArtifactsInfo.weightDataBytes ?? 0;
      this.status.dataset.saved = '';
      this.status.textContent =
        `Saved ${stem}.json and ${stem}.weights.bin (${fmt.count(Math.ceil(bytes / 1024))} kB of ` +
        "weights) — see your browser's downloads.";
    } catch (e) {
      this.status.textContent = `Could not save the model: ${(e as Error).message}`;
    }
  }
}
