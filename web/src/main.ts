/**
 * The playground: wires the four sections. The page's state is on <body data-state=…>
 * (idle, loading, training, folding, ready, error), which the e2e test waits on.
 */
import type * as tf from '@tensorflow/tfjs';
import { takeFirst } from '../../src/index.js';
import { describeBackend, selectBackend } from './backend.js';
import { byId } from './dom.js';
import * as fmt from './format.js';
import { DownloadPanel } from './downloadPanel.js';
import { DrawPanel } from './drawPanel.js';
import { FoldPanel } from './foldPanel.js';
import { loadMnist } from './mnist.js';
import { watchOverflow } from './scrollHint.js';
import { TrainPanel, type TrainSettings } from './trainPanel.js';
import { buildTwins, disposeTwins, type Twins } from './twins.js';

type State = 'idle' | 'loading' | 'training' | 'folding' | 'ready' | 'error';
const setState = (s: State) => (document.body.dataset.state = s);

const trainPanel = new TrainPanel((settings) => void run(settings));
const foldPanel = new FoldPanel();
const drawPanel = new DrawPanel();
const downloadPanel = new DownloadPanel(byId('model', HTMLSelectElement));
watchOverflow(byId('results-wrap', HTMLDivElement));
let current: { twins: Twins; folded: tf.LayersModel | null } | null = null;

function release(): void {
  drawPanel.setModel(null);
  downloadPanel.setModel(null);
  foldPanel.reset();
  if (!current) return;
  disposeTwins(current.twins);
  current.folded?.dispose();
  current = null;
}

async function run(settings: TrainSettings): Promise<void> {
  trainPanel.setBusy(true);
  try {
    release();
    setState('loading');
    trainPanel.setStatus('Starting the backend and loading MNIST…');
    const backend = await selectBackend(settings.backend);
    trainPanel.showBackend(describeBackend(), backend.note);
    const mnist = await loadMnist();
    const test = takeFirst(mnist.test, settings.testImages);
    const twins = buildTwins(settings.modelName, settings.seed);
    current = { twins, folded: null };

    setState('training');
    const [convAcc, doconvAcc] = await trainPanel.run(twins, mnist.train, test, settings);

    setState('folding');
    trainPanel.setStatus('Folding the DO-Conv model…');
    const report = await foldPanel.run(twins, test);
    current.folded = report.folded;
    drawPanel.setModel({ model: report.folded, output: twins.output, test: mnist.test });
    downloadPanel.setModel(report.folded, settings.modelName);
    // The outcome first in the status line, under the buttons: on a phone the table is screens below.
    trainPanel.setStatus(
      `Done: DO-Conv ${fmt.percent(doconvAcc)}, Conv ${fmt.percent(convAcc)} test accuracy ` +
        `(${fmt.signed(100 * (doconvAcc - convAcc), 1)} pt).`,
      `Folded model: max |Δ| ${fmt.tiny(report.maxAbsDiff)} vs DO-Conv. Draw a digit below, or download it.`,
    );
    setState('ready');
  } catch (e) {
    console.error(e);
    trainPanel.setStatus(`Error: ${(e as Error).message}`);
    setState('error');
  } finally {
    trainPanel.setBusy(false);
  }
}
