/**
 * The main thread's side of one parallel-training worker: starting the thread (from built .js or,
 * in development, .ts source) and a one-request-at-a-time channel with error propagation. Idle
 * workers do not keep Node alive; a request in flight does.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { FromWorker, ToWorker } from './protocol.js';

/**
 * Starts the worker module `stem` (a relative path without extension, resolved against
 * `callerUrl`, the caller's import.meta.url): stem.js when built. Run from source (tsx, vitest) it
 * is stem.ts, which Node cannot load by itself, and a tsx loader passed in execArgv does not reach a
 * worker's entry on Node 20: a two-line bootstrap registers tsx in the worker first.
 */
export function startWorkerModule(callerUrl: string, stem: string, name: string): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`${stem}.js`, callerUrl), { name });
  const require = createRequire(callerUrl);
  const tsxPackage = require.resolve('tsx/package.json');
  const exports = JSON.parse(readFileSync(tsxPackage, 'utf8')).exports as Record<
    string,
    { import: { default: string } }
  >;
  const api = pathToFileURL(join(dirname(tsxPackage), exports['./esm/api'].import.default)).href;
  const entry = new URL(`${stem}.ts`, callerUrl).href;
  const bootstrap = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true, name });
}

/** Starts a data-parallel training worker (./worker.ts). */
export function startWorker(name: string): Worker {
  return startWorkerModule(import.meta.url, './worker', name);
}

/** One worker thread and its pending request, if any. */
export class WorkerHandle {
  private pending:
    | { resolve: (m: FromWorker) => void; reject: (e: Error) => void; expect: FromWorker['type'] }
    | undefined;
  private failure: Error | undefined;
  private closing = false;
  readonly exited: Promise<number>;

  constructor(
    readonly index: number,
    private readonly worker: Worker,
  ) {
    worker.on('message', (m: FromWorker) => this.settle(m));
    worker.on('error', (e) => this.fail(e));
    this.exited = new Promise((resolve) => worker.once('exit', resolve));
    void this.exited.then((code) =>
      this.fail(new Error(`doconv parallel worker ${index} exited (code ${code})`)),
    );
    // Idle workers must not keep the process alive (a forgotten dispose() must not hang Node).
    worker.unref();
  }

  private settle(m: FromWorker): void {
    const p = this.pending;
    this.pending = undefined;
    // While closing, stay referenced until the exit: an unref here would let Node end first, and
    // dispose() would never settle.
    if (!this.closing) this.worker.unref();
    if (p == null) return;
    if (m.type === 'error') {
      const e = new Error(`doconv parallel worker ${this.index}: ${m.message}`);
      if (m.stack != null) e.stack = `${e.message}\n(in the worker) ${m.stack}`;
      p.reject(e);
    } else if (m.type !== p.expect) {
      p.reject(
        new Error(
          `doconv parallel worker ${this.index}: expected a '${p.expect}' reply, got '${m.type}'`,
        ),
      );
    } else {
      p.resolve(m);
    }
  }

  private fail(e: Error): void {
    this.failure ??= e;
    const p = this.pending;
    this.pending = undefined;
    p?.reject(e);
  }

  /** Sends `message` and resolves with the worker's reply of type `expect`. */
  request<T extends FromWorker>(
    message: ToWorker,
    expect: T['type'],
    transfer: ArrayBuffer[] = [],
  ): Promise<T> {
    if (this.failure != null) return Promise.reject(this.failure);
    if (this.pending != null) {
      return Promise.reject(new Error(`doconv parallel worker ${this.index}: request while busy`));
    }
    return new Promise<T>((resolve, reject) => {
      this.pending = { resolve: resolve as (m: FromWorker) => void, reject, expect };
      this.worker.ref(); // a request in flight keeps Node alive until the reply
      this.worker.postMessage(message, transfer);
    });
  }

  /** Asks the worker to dispose its model and exit; `exited` resolves when it has. */
  close(): void {
    this.closing = true;
    this.worker.ref(); // keep Node alive until the worker has gone
    this.worker.postMessage({ type: 'close' } satisfies ToWorker);
  }

  /** Resolves once the worker has exited, terminating it if it has not within `graceMs`. */
  async closed(graceMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), graceMs);
    });
    try {
      if ((await Promise.race([this.exited, late])) === 'late') await this.terminate();
    } finally {
      clearTimeout(timer);
    }
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}
