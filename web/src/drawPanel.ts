/** Section 3: draw a digit (or paint a random test digit) and classify it with the folded model. */
import * as tf from '@tensorflow/tfjs';
import type { Dataset, ZooOutput } from '../../src/index.js';
import { toMnistImage, showImage } from './digitImage.js';
import { byId, el } from './dom.js';
import { DrawPad } from './drawPad.js';
import { probabilities } from './evaluate.js';
import * as fmt from './format.js';

interface Classifier {
  model: tf.LayersModel;
  output: ZooOutput;
  test: Dataset;
}

export class DrawPanel {
  private readonly pad = new DrawPad(byId('pad', HTMLCanvasElement), () => this.classify());
  private readonly seen = byId('seen', HTMLCanvasElement);
  private readonly top3 = byId('top3', HTMLOListElement);
  private readonly sampleButton = byId('sample', HTMLButtonElement);
  private readonly sampleLabel = byId('sample-label', HTMLParagraphElement);
  private classifier: Classifier | null = null;

  constructor() {
    byId('clear', HTMLButtonElement).addEventListener('click', () => {
      this.pad.clear();
      this.sampleLabel.textContent = '';
      this.classify();
    });
    this.sampleButton.addEventListener('click', () => this.paintSample());
    showImage(this.seen, null);
  }

  /** The model to classify with (null while none is trained). */
  setModel(classifier: Classifier | null): void {
    this.classifier = classifier;
    this.sampleButton.disabled = classifier === null;
    byId('draw-hint', HTMLParagraphElement).textContent = classifier
      ? 'Draw with the mouse or a finger; the folded model classifies it when you lift.'
      : 'Draw with the mouse or a finger; the folded model classifies it when you lift. Train first.';
    this.classify();
  }

  /** A keyboard-friendly way to try the model: a random test image, painted on the pad. */
  private paintSample(): void {
    if (!this.classifier) return;
    const { test } = this.classifier;
    const i = Math.floor(Math.random() * test.count);
    const per = test.height * test.width;
    this.pad.paintImage(test.images.subarray(i * per, (i + 1) * per), test.width, test.height);
    this.sampleLabel.textContent = `Test image #${i}, labelled ${test.labels[i]}.`;
    this.classify();
  }

  /** Counts classify() calls: a slower earlier answer must not overwrite a later one. */
  private asked = 0;

  private classify(): void {
    void this.classifyNow(++this.asked);
  }

  private async classifyNow(ask: number): Promise<void> {
    const img = toMnistImage(this.pad.canvas);
    showImage(this.seen, img);
    if (!img || !this.classifier) {
      this.top3.replaceChildren();
      return;
    }
    const { model, output } = this.classifier;
    const p = tf.tidy(() => {
      const x = tf.tensor4d(
        Float32Array.from(img, (v) => v / 255),
        [1, 28, 28, 1],
      );
      return probabilities(model, output, x);
    });
    // data(), not dataSync(): WebGPU's synchronous read returns zeros on some adapters (SwiftShader).
    const probs = await p.data();
    p.dispose();
    if (ask !== this.asked) return;
    const ranked = Array.from(probs, (p, digit) => ({ digit, p }))
      .sort((a, b) => b.p - a.p)
      .slice(0, 3);
    this.top3.replaceChildren(
      ...ranked.map(({ digit, p }) => {
        const li = el('li', { 'data-digit': String(digit), 'data-prob': String(p) });
        const bar = el('span', { class: 'bar', 'aria-hidden': 'true' });
        bar.style.width = `${(100 * p).toFixed(1)}%`;
        li.append(
          el('span', { class: 'digit' }, String(digit)),
          el('span', {}, ''),
          el('span', { class: 'prob' }, fmt.percent(p)),
        );
        li.children[1].append(bar);
        return li;
      }),
    );
  }
}
