/**
 * The PyTorch side as one warm process (`bench/torch_train.py --serve`): a job per line in, a JSON
 * line per job out, so alternating rounds pay Python's and torch's start-up once. Also finds a
 * Python that has torch ($PYTHON, python3 on PATH, then Debian's /usr/bin/python3).
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';

/** First python with torch: $PYTHON, then python3 on PATH, then Debian's (python3-torch lives there). */
export function findTorchPython(): string | undefined {
  const candidates = [process.env.PYTHON, 'python3', '/usr/bin/python3'].filter(
    (p): p is string => !!p,
  );
  return candidates.find(
    (py) => spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0,
  );
}

/** One net's job for the PyTorch side (the fields bench/torch_train.py reads). */
export interface TorchJob {
  net: string;
  variants: string[];
  batch: number;
  inputShape: [number, number, number];
  numClasses: number;
  task: string;
  warmup: number;
  windows: number;
  /** Steps per window, or absent to calibrate them to `windowSeconds`. */
  steps?: number;
  windowSeconds?: number;
}

/** A row as torch_train.py prints it (bench/rounds.ts adds the summaries). */
export interface TorchRow {
  net: string;
  variant: string;
  batch: number;
  stepsPerWindow: number;
  windows: number[];
  cpuMsWindows: number[];
  firstLoss: number;
  lastLoss: number;
  peakRssBytes: number;
  peakRssResettable: boolean;
  torch: string;
  threads: number;
}

export class TorchServer {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: Interface;
  private readonly pending: Array<(line: string | null) => void> = [];
  private closed = false;

  /**
   * Starts `python bench/torch_train.py --serve` with `threads` intra-op threads in `env` — the
   * environment as the user started the bench, before doconv's addon set its OpenMP waiting policy
   * (PyTorch runs as users run it; its libgomp reads the same variables).
   */
  constructor(python: string, threads: number, env: NodeJS.ProcessEnv) {
    this.child = spawn(python, ['bench/torch_train.py', '--serve'], {
      env: { ...env, TORCH_THREADS: String(threads) },
    });
    this.child.stderr.pipe(process.stderr);
    this.lines = createInterface({ input: this.child.stdout });
    this.lines.on('line', (line) => this.pending.shift()?.(line));
    this.child.on('exit', () => {
      this.closed = true;
      for (const resolve of this.pending.splice(0)) resolve(null);
    });
  }

  /** Runs one job; throws with PyTorch's message when it failed. */
  async run(job: TorchJob): Promise<TorchRow[]> {
    if (this.closed) throw new Error('PyTorch side: the torch_train.py process has exited');
    const line = await new Promise<string | null>((resolve) => {
      this.pending.push(resolve);
      this.child.stdin.write(JSON.stringify(job) + '\n');
    });
    if (line === null) throw new Error(`PyTorch side: torch_train.py exited during ${job.net}`);
    const reply = JSON.parse(line) as { rows?: TorchRow[]; error?: string };
    if (reply.error !== undefined) throw new Error(`PyTorch side, ${job.net}: ${reply.error}`);
    return reply.rows!;
  }

  close(): void {
    this.child.stdin.end();
    this.lines.close();
  }
}
