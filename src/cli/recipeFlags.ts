/**
 * The flag of every recipe option (src/train/recipeOptions.ts) for `doconv train` and `doconv
 * compare`: how commander spells it, its --help line, and a value it takes (for --help readers and
 * the table's test). The table must have a row for every library key (a missing one does not
 * compile); how a flag's text is read follows from the library row (its number rule, its choices).
 */
import { MAX_LEARNING_RATE, type RecipeOptionKey } from '../train/recipeOptions.js';

/** One recipe option's flag. */
export interface RecipeFlagRow {
  /** The flag as commander spells it: '--epochs <n>' takes a value; '--augment' is a switch. */
  readonly flag: string;
  /** The flag's --help line. */
  readonly help: string;
  /** A switch's --no- form: its --help line. */
  readonly negation?: string;
  /** A value the flag takes. */
  readonly example?: string;
}

export const RECIPE_FLAGS = {
  preset: {
    flag: '--preset <name>',
    help: "an official sample's recipe; fixes everything but --conv (other flags override it for both convs alike)",
    example: 'pt-mnist-sample',
  },
  model: {
    flag: '--model <name>',
    help: 'zoo model (required without --preset), or a saved TF.js classifier (path/model.json) to train as it is (--conv conv: DO layers folded) or over-parameterized (--conv doconv)',
    example: 'resnet-20',
  },
  task: {
    flag: '--task <task>',
    help: "what to train for (default: the model's own task); segmentation/detection without --model take deeplab-mini/centernet-mini on mnist-scenes",
    example: 'segmentation',
  },
  dataset: {
    flag: '--dataset <name>',
    help: "dataset (default: the preset's, else mnist; mnist-scenes for the segmentation and detection models)",
    example: 'fashion-mnist',
  },
  dataDir: {
    flag: '--data-dir <dir>',
    help: "folder with the dataset files (required for cifar10; for folder, one subfolder of PNG/JPEG images per class, or train/ and val/ of those; fashion-mnist defaults to the Debian package's)",
    example: '.',
  },
  channels: {
    flag: '--channels <n>',
    help: '--dataset folder: 1 (gray) or 3 (RGB), converting the images that differ (default: 1 when every image is gray, else 3)',
    example: '3',
  },
  imageSize: {
    flag: '--image-size <size>',
    help: '--dataset folder: resize the images to N×N or HxW pixels (bilinear; default: their own size, when they all share one)',
    example: '32',
  },
  holdout: {
    flag: '--holdout <n>',
    help: 'test on the last N training images instead of the test split',
    example: '10000',
  },
  trainLimit: {
    flag: '--train-limit <n>',
    help: 'train on the first N training images only',
    example: '6000',
  },
  testLimit: {
    flag: '--test-limit <n>',
    help: 'test on the first N test images only',
    example: '1000',
  },
  epochs: { flag: '--epochs <n>', help: 'epochs', example: '15' },
  batchSize: { flag: '--batch-size <n>', help: 'training batch size', example: '128' },
  evalBatchSize: { flag: '--eval-batch-size <n>', help: 'evaluation batch size', example: '256' },
  optimizer: {
    flag: '--optimizer <kind>',
    help: 'sgd (PyTorch-style momentum) or adam (Keras form)',
    example: 'sgd',
  },
  lr: {
    flag: '--lr <rate>',
    help: `base learning rate, in (0, ${MAX_LEARNING_RATE}]`,
    example: '0.1',
  },
  momentum: { flag: '--momentum <m>', help: 'SGD momentum in [0, 1)', example: '0.9' },
  beta1: { flag: '--beta1 <b>', help: 'Adam β1 in [0, 1)', example: '0.9' },
  beta2: { flag: '--beta2 <b>', help: 'Adam β2 in [0, 1)', example: '0.999' },
  epsilon: { flag: '--epsilon <e>', help: 'Adam ε in (0, 1]', example: '1e-8' },
  'schedule.kind': {
    flag: '--schedule <kind>',
    help: 'learning-rate schedule',
    example: 'cosine',
  },
  'schedule.milestones': {
    flag: '--milestones <epochs>',
    help: 'step schedule: epochs at which lr ×= gamma, e.g. 100,150',
    example: '100,150',
  },
  'schedule.every': {
    flag: '--step-every <epochs>',
    help: 'step schedule: lr ×= gamma every N epochs',
    example: '30',
  },
  'schedule.gamma': {
    flag: '--gamma <g>',
    help: 'step schedule factor in (0, 1] (default 0.1)',
    example: '0.2',
  },
  'schedule.minLr': {
    flag: '--min-lr <rate>',
    help: 'cosine schedule: final rate, ≥ 0 and ≤ --lr (default 0)',
    example: '0.001',
  },
  'schedule.warmupEpochs': {
    flag: '--warmup <epochs>',
    help: 'linear learning-rate warm-up over the first N epochs (per step, any schedule; default 0)',
    example: '1',
  },
  scheduleUnit: {
    flag: '--schedule-unit <unit>',
    help: 'change the rate once per epoch or at every step',
    example: 'step',
  },
  weightDecay: {
    flag: '--weight-decay <lambda>',
    help: 'L2 weight decay: adds λ·w to the gradient of every kernel (and D, see --no-decay-d); never biases or BatchNorm',
    example: '1e-4',
  },
  decayD: {
    flag: '--decay-d',
    help: "weight decay also applies to DO-Conv's D (the default, as the official TF and PyTorch code)",
    negation: "exempt DO-Conv's D from weight decay (only W decays)",
  },
  augment: {
    flag: '--augment',
    help: 'random flip + 4-pixel crop of training images (default on for cifar10)',
    negation: 'no augmentation',
  },
  normalize: {
    flag: '--normalize <kind>',
    help: 'none: pixels/255; dataset: then per-channel (x − mean)/std',
    example: 'dataset',
  },
  workers: {
    flag: '--workers <n>',
    help: "worker threads for the forward/backward passes, one core each (default 1: this thread); BatchNorm then normalises each worker's share of the batch on its own",
    example: '2',
  },
} as const satisfies Record<RecipeOptionKey, RecipeFlagRow>;
