/** Section 2: fold the trained DO-Conv model and show that nothing but the parameter count changed. */
import type * as tf from '@tensorflow/tfjs';
import { foldModel, type Dataset } from '../../src/index.js';
import { byId } from './dom.js';
import { accuracy, maxAbsDifference } from './evaluate.js';
import * as fmt from './format.js';
import type { Twins } from './twins.js';

export interface FoldReport {
  folded: tf.LayersModel;
  paramsBefore: number;
  paramsAfter: number;
  maxAbsDiff: number;
  accuracy: number;
}

const IDS = ['fold-params-before', 'fold-params-after', 'fold-maxdiff', 'fold-acc'] as const;

function show(id: (typeof IDS)[number], text: string, value?: number): void {
  const dd = byId(id, HTMLElement);
  dd.textContent = text;
  // The unrounded number, for anyone (or any test) that wants more than the displayed digits.
  if (value === undefined) delete dd.dataset.value;
  else dd.dataset.value = String(value);
}

export class FoldPanel {
  reset(): void {
    for (const id of IDS) show(id, '–');
  }

  /** Folds twins.doconv and measures the folded model on `test`. */
  async run(twins: Twins, test: Dataset): Promise<FoldReport> {
    const doconv = twins.doconv.model;
    const folded = foldModel(doconv);
    const paramsBefore = doconv.countParams();
    const paramsAfter = folded.countParams();
    show('fold-params-before', fmt.count(paramsBefore), paramsBefore);
    show(
      'fold-params-after',
      `${fmt.count(paramsAfter)} (Conv model: ${fmt.count(twins.conv.model.countParams())})`,
      paramsAfter,
    );
    const maxAbsDiff = await maxAbsDifference(doconv, folded, test);
    show('fold-maxdiff', fmt.tiny(maxAbsDiff), maxAbsDiff);
    const acc = await accuracy(folded, test);
    show('fold-acc', fmt.percent(acc), acc);
    return { folded, paramsBefore, paramsAfter, maxAbsDiff, accuracy: acc };
  }
}
