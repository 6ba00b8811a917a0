/**
 * Training progress on stderr (stdout stays free for results): a live bar with images/s and ETA when
 * stderr is a terminal (cli-progress), plain lines every 10 % of an epoch when it is not (logs, CI).
 */
import cliProgress from 'cli-progress';
import type { EpochMetrics } from './metrics.js';

/** 'auto': 'bar' on a TTY, else 'lines'. 'none' prints nothing (tests, library use). */
export const PROGRESS_MODES = ['auto', 'bar', 'lines', 'none'] as const;
export type ProgressMode = (typeof PROGRESS_MODES)[number];

/** Where the trainer is within an epoch. */
export interface StepProgress {
  step: number;
  steps: number;
  images: number;
  /** Running means over the epoch so far. */
  loss: number;
  accuracy: number;
  imagesPerSecond: number;
}

/** What the trainer calls; implementations decide what to print. */
export interface ProgressReporter {
  startEpoch(epoch: number, epochs: number, steps: number): void;
  step(p: StepProgress): void;
  endEpoch(m: EpochMetrics, epochs: number): void;
  /** A one-off message (kept on its own line, not overwritten by the bar). */
  message(text: string): void;
  stop(): void;
}

/** A reporter for `mode`, writing to `stream` (default process.stderr). */
export function createProgress(
  mode: ProgressMode = 'auto',
  stream: NodeJS.WriteStream = process.stderr,
): ProgressReporter {
  const resolved = mode === 'auto' ? (stream.isTTY ? 'bar' : 'lines') : mode;
  switch (resolved) {
    case 'bar':
      return new BarProgress(stream);
    case 'lines':
      return new LineProgress((s) => stream.write(s + '\n'));
    case 'none':
      return silentProgress;
    default:
      throw new Error(
        `progress: unknown mode ${JSON.stringify(mode)}; known: ${PROGRESS_MODES.join(', ')}`,
      );
  }
}

export const silentProgress: ProgressReporter = {
  startEpoch() {},
  step() {},
  endEpoch() {},
  message() {},
  stop() {},
};

/** "epoch 2/5: train loss 0.0712 acc 0.9781 | test loss … | 912 img/s, 65.8 s | lr 0.001" */
export function formatEpochLine(m: EpochMetrics, epochs: number): string {
  return (
    `epoch ${m.epoch}/${epochs}: train loss ${m.trainLoss.toFixed(4)} acc ${m.trainAccuracy.toFixed(4)}` +
    ` | test loss ${m.testLoss.toFixed(4)} acc ${m.testAccuracy.toFixed(4)}` +
    ` | ${m.imagesPerSecond.toFixed(0)} img/s, ${m.seconds.toFixed(1)} s | lr ${formatLr(m.lr)}`
  );
}

/** Seconds as "1h02m", "3m05s" or "42s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

function formatLr(lr: number): string {
  return Number(lr.toPrecision(4)).toString();
}

function eta(p: StepProgress): number {
  const perStep = p.images / p.step / p.imagesPerSecond;
  return (p.steps - p.step) * perStep;
}

class BarProgress implements ProgressReporter {
  private bar: cliProgress.SingleBar | null = null;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  startEpoch(epoch: number, epochs: number, steps: number): void {
    this.bar?.stop();
    this.bar = new cliProgress.SingleBar(
      {
        stream: this.stream,
        format: `epoch ${epoch}/${epochs} {bar} {percentage}% | {value}/{total} steps | {ips} img/s | loss {loss} acc {acc} | ETA {etaText}`,
        hideCursor: true,
        clearOnComplete: true,
        fps: 5,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(steps, 0, { ips: '-', loss: '-', acc: '-', etaText: '?' });
  }

  step(p: StepProgress): void {
    this.bar?.update(p.step, {
      ips: p.imagesPerSecond.toFixed(0),
      loss: p.loss.toFixed(4),
      acc: p.accuracy.toFixed(4),
      etaText: formatDuration(eta(p)),
    });
  }

  endEpoch(m: EpochMetrics, epochs: number): void {
    this.bar?.stop();
    this.bar = null;
    this.stream.write(formatEpochLine(m, epochs) + '\n');
  }

  message(text: string): void {
    if (this.bar) {
      // Clear the bar's line, print, and let the next update redraw the bar below.
      this.stream.write('\r\x1b[2K' + text + '\n');
    } else {
      this.stream.write(text + '\n');
    }
  }

  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}

/** Plain lines at every 10 % of an epoch; `write` gets one line without its newline. */
export class LineProgress implements ProgressReporter {
  private epochText = '';
  private nextReport = 0;
  private steps = 0;

  constructor(private readonly write: (line: string) => void) {}

  startEpoch(epoch: number, epochs: number, steps: number): void {
    this.epochText = `epoch ${epoch}/${epochs}`;
    this.steps = steps;
    this.nextReport = 1;
  }

  step(p: StepProgress): void {
    const tenth = Math.floor((10 * p.step) / this.steps);
    if (tenth < this.nextReport || p.step === this.steps) return; // the epoch line reports the end
    this.nextReport = tenth + 1;
    this.write(
      `${this.epochText} ${String(tenth * 10).padStart(3)}% step ${p.step}/${p.steps}` +
        ` | loss ${p.loss.toFixed(4)} acc ${p.accuracy.toFixed(4)}` +
        ` | ${p.imagesPerSecond.toFixed(0)} img/s | ETA ${formatDuration(eta(p))}`,
    );
  }

  endEpoch(m: EpochMetrics, epochs: number): void {
    this.write(formatEpochLine(m, epochs));
  }

  message(text: string): void {
    this.write(text);
  }

  stop(): void {}
}
