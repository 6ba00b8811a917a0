/** Section 1: the settings form, progress, the two charts and the results table. */
import {
  takeFirst,
  zooModelInfo,
  zooModelNames,
  zooModelTask,
  type Dataset,
} from '../../src/index.js';
import { availableChoices, backendChoices, type BackendChoice } from './backend.js';
import { byId, el } from './dom.js';
import * as fmt from './format.js';
import { LineChart, type Series } from './lineChart.js';
import { evaluateTwins, trainTwins, type Pair } from './trainTwins.js';
import type { Twins } from './twins.js';

/** The page trains MNIST classifiers; the zoo's segmentation and detection nets take 64×64 scenes. */
const classifiers = zooModelNames.filter((n) => zooModelTask(n) === 'classification');

export const DEFAULT_MODEL = 'tf-mnist-sample';
const BATCH_SIZE = 32;
/** Test images for the live accuracy curve (all of the test subset is used for the final numbers). */
const LIVE_EVAL_COUNT = 1000;
/** About this many points per curve, whatever the budget. */
const CURVE_POINTS = { loss: 100, accuracy: 10 };

export interface TrainSettings {
  modelName: string;
  steps: number;
  backend: BackendChoice;
  seed: number;
  /** How many test images to measure accuracy (and the fold's max |Δ|) on. */
  testImages: number;
}

const KEYS = ['conv', 'doconv'] as const;
/** Accuracy points are few (about ten): markers tell the lines apart without colour or dashes. */
const MARKERS = ['circle', 'square'] as const;
/** 0.875 → '88' (whole percent, for axis ticks; the axis steps are whole percents). */
const pct = (y: number) => String(Math.round(100 * y));
/** The accuracy caption's count: 'first 1,000 of 2,000' while training measures a part, else '500'. */
const liveEvalPhrase = (live: number, total: number) =>
  live < total ? `first ${fmt.count(live)} of ${fmt.count(total)}` : fmt.count(total);

export class TrainPanel {
  private readonly form = byId('train-form', HTMLFormElement);
  private readonly model = byId('model', HTMLSelectElement);
  private readonly steps = byId('steps', HTMLInputElement);
  private readonly backend = byId('backend', HTMLSelectElement);
  private readonly seed = byId('seed', HTMLInputElement);
  private readonly testImages = byId('test-images', HTMLInputElement);
  private readonly trainButton = byId('train', HTMLButtonElement);
  private readonly stopButton = byId('stop', HTMLButtonElement);
  private readonly progress = byId('progress', HTMLProgressElement);
  private readonly status = byId('status', HTMLParagraphElement);
  // The two accuracy curves differ by a point or two on a 0–100 % scale, so they would lie on top of
  // each other. Three things make the comparison readable at a glance: the accuracy axis is zoomed to
  // the data (its title says so), each line is named at its end with its last value, and a third chart
  // plots DO-Conv − Conv in points around 0, where a one-point gap is a third of the plot, not a pixel.
  private readonly lossChart = new LineChart(byId('loss-chart', SVGSVGElement), {
    yName: 'Training loss',
    yTitle: () => 'cross-entropy',
    yScale: { kind: 'from-zero' },
    formatY: (y) => String(+y.toFixed(2)),
    formatEnd: (y) => y.toFixed(2),
    emptyText: 'Loss curves appear here while training',
  });
  private readonly accChart = new LineChart(byId('acc-chart', SVGSVGElement), {
    yName: 'Test accuracy',
    yTitle: ([lo, hi]) =>
      lo > 0 || hi < 1 ? `% correct · axis zoomed to ${pct(lo)}–${pct(hi)} %` : '% correct',
    yScale: { kind: 'zoomed', limits: [0, 1] },
    formatY: (y) => `${pct(y)}%`,
    formatEnd: fmt.percent,
    emptyText: 'Accuracy curves appear here while training',
  });
  private readonly diffChart = new LineChart(byId('diff-chart', SVGSVGElement), {
    yName: 'Accuracy difference, DO-Conv minus Conv, in points',
    yTitle: () => 'points · above 0: DO-Conv ahead',
    yScale: { kind: 'around-zero', minHalfSpan: 1 },
    formatY: fmt.signed,
    formatEnd: (y) => `${fmt.signed(y, 1)} pt`,
    emptyText: 'DO-Conv − Conv appears here',
  });
  private stopRequested = false;

  constructor(onSubmit: (settings: TrainSettings) => void) {
    for (const name of classifiers) this.model.append(el('option', { value: name }, name));
    this.prefill(new URLSearchParams(location.search));
    void availableChoices().then((choices) => this.offerBackends(choices));
    this.showDescription();
    this.model.addEventListener('change', () => this.showDescription());
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      onSubmit(this.settings());
    });
    this.stopButton.addEventListener('click', () => {
      this.stopRequested = true;
      this.stopButton.disabled = true;
      this.setStatus('Stopping after this step…');
    });
    this.lossChart.reset(1);
    this.accChart.reset(1);
    this.diffChart.reset(1);
    this.showCounts();
    this.testImages.addEventListener('input', () => this.showCounts());
  }

  /** The captions' image counts, for the run the form describes (filled before training, not '…'). */
  private showCounts(): void {
    const n = Math.max(1, Math.round(this.testImages.valueAsNumber || 1));
    byId('eval-count', HTMLSpanElement).textContent = liveEvalPhrase(
      Math.min(n, LIVE_EVAL_COUNT),
      n,
    );
    byId('test-count', HTMLSpanElement).textContent = fmt.count(n);
  }

  /** ?model=…&steps=…&backend=…&seed=…&test=… fill the form (nothing starts by itself). */
  private prefill(params: URLSearchParams): void {
    const model = params.get('model') ?? DEFAULT_MODEL;
    this.model.value = classifiers.includes(model as never) ? model : DEFAULT_MODEL;
    const backend = params.get('backend');
    if (backend && backendChoices.includes(backend as BackendChoice)) this.backend.value = backend;
    for (const [key, input] of [
      ['steps', this.steps],
      ['seed', this.seed],
      ['test', this.testImages],
    ] as const) {
      const v = params.get(key);
      if (v !== null && Number.isInteger(Number(v))) input.value = v;
    }
  }

  /**
   * Keeps the backend options this browser has (WebGL, WebGPU only where present); a choice it
   * lacks falls back to Auto. The select's data-offered lists them once known (the e2e test reads it).
   */
  private offerBackends(choices: BackendChoice[]): void {
    for (const option of Array.from(this.backend.options)) {
      if (!choices.includes(option.value as BackendChoice)) option.remove();
    }
    if (this.backend.value === '') this.backend.value = 'auto';
    this.backend.dataset.offered = choices.join(' ');
  }

  private showDescription(): void {
    byId('model-desc', HTMLParagraphElement).textContent = zooModelInfo(
      this.model.value,
    ).description;
  }

  private settings(): TrainSettings {
    return {
      modelName: this.model.value,
      steps: Math.max(1, Math.round(this.steps.valueAsNumber || 1)),
      backend: this.backend.value as BackendChoice,
      seed: Math.round(this.seed.valueAsNumber || 0),
      testImages: Math.max(1, Math.round(this.testImages.valueAsNumber || 1)),
    };
  }

  /** The status line; `more` follows in a second span (the first, .outcome, is what must be seen). */
  setStatus(text: string, more?: string): void {
    if (more === undefined) {
      this.status.textContent = text;
      return;
    }
    this.status.replaceChildren(el('span', { class: 'outcome' }, text), ` ${more}`);
  }

  showBackend(description: string, note: string): void {
    byId('backend-name', HTMLOutputElement).textContent = description;
    byId('backend-note', HTMLSpanElement).textContent = note;
  }

  /** Disables the form while something runs (the Stop button only while training). */
  setBusy(busy: boolean): void {
    for (const c of [
      this.model,
      this.steps,
      this.testImages,
      this.backend,
      this.seed,
      this.trainButton,
    ])
      c.disabled = busy;
    if (!busy) this.stopButton.disabled = true;
  }

  /**
   * Trains both twins with live curves; fills the results table with accuracies on all of `test`
   * and returns them ([Conv, DO-Conv]).
   */
  async run(twins: Twins, train: Dataset, test: Dataset, settings: TrainSettings): Promise<Pair> {
    const { steps, seed } = settings;
    const liveEval = takeFirst(test, LIVE_EVAL_COUNT);
    byId('eval-count', HTMLSpanElement).textContent = liveEvalPhrase(liveEval.count, test.count);
    byId('test-count', HTMLSpanElement).textContent = fmt.count(test.count);
    this.clearResults();
    for (const [i, t] of [twins.conv, twins.doconv].entries()) {
      byId(`params-${KEYS[i]}`, HTMLTableCellElement).textContent = fmt.count(
        t.model.countParams(),
      );
    }
    const lossSeries = this.series();
    const accSeries = this.series().map((s, i) => ({ ...s, marker: MARKERS[i] }));
    const diffSeries: Series[] = [{ label: '', key: 'diff', points: [], marker: 'circle' }];
    this.lossChart.reset(steps);
    this.accChart.reset(steps);
    this.diffChart.reset(steps);
    this.progress.max = steps;
    this.progress.value = 0;

    // Each loss point is the mean over a window of steps: per-batch losses are too noisy to compare.
    const window = Math.max(1, Math.ceil(steps / CURVE_POINTS.loss));
    const sums: Pair = [0, 0];
    let lastLoss: Pair = [NaN, NaN];
    this.stopRequested = false;
    this.stopButton.disabled = false;
    const done = await trainTwins(
      twins,
      train,
      {
        steps,
        batchSize: BATCH_SIZE,
        seed,
        evalEvery: Math.max(1, Math.round(steps / CURVE_POINTS.accuracy)),
        evalSet: liveEval,
      },
      {
        onStep: (step, losses, msPerStep) => {
          sums[0] += losses[0];
          sums[1] += losses[1];
          if (step % window === 0 || step === steps) {
            const n = step % window || window;
            lastLoss = [sums[0] / n, sums[1] / n];
            lossSeries.forEach((s, i) => s.points.push([step, lastLoss[i]]));
            sums.fill(0);
            this.lossChart.draw(lossSeries);
          }
          this.progress.value = step;
          this.setStatus(`Training: step ${step} of ${steps}`);
          KEYS.forEach((k, i) => {
            byId(`ms-${k}`, HTMLTableCellElement).textContent = fmt.ms(msPerStep[i]);
            byId(`loss-${k}`, HTMLTableCellElement).textContent = fmt.loss(
              Number.isNaN(lastLoss[i]) ? losses[i] : lastLoss[i],
            );
          });
        },
        onEval: (step, accuracies) => {
          accSeries.forEach((s, i) => s.points.push([step, accuracies[i]]));
          this.accChart.draw(accSeries);
          diffSeries[0].points.push([step, 100 * (accuracies[1] - accuracies[0])]);
          this.diffChart.draw(diffSeries);
        },
        shouldStop: () => this.stopRequested,
      },
    );
    this.stopButton.disabled = true;
    this.setStatus(
      `Trained ${done} steps. Measuring accuracy on ${fmt.count(test.count)} test images…`,
    );
    const final: Pair = [NaN, NaN];
    await evaluateTwins(twins, test, done, {
      onEval: (_, accuracies) =>
        KEYS.forEach((k, i) => {
          const cell = byId(`acc-${k}`, HTMLTableCellElement);
          cell.textContent = fmt.percent(accuracies[i]);
          cell.dataset.value = String(accuracies[i]); // unrounded, as in the fold section
          final[i] = accuracies[i];
        }),
    });
    return final;
  }

  private series(): Series[] {
    return [
      { label: 'Conv', key: 'conv', points: [] },
      { label: 'DO-Conv', key: 'doconv', points: [] },
    ];
  }

  private clearResults(): void {
    for (const what of ['loss', 'acc', 'ms', 'params']) {
      for (const k of KEYS) {
        const cell = byId(`${what}-${k}`, HTMLTableCellElement);
        cell.textContent = '–';
        delete cell.dataset.value;
      }
    }
  }
}
