/**
 * Hang detection for long runs. The fuzzed code runs synchronously on this
 * thread, so nothing here can interrupt it; a worker thread can. Before each
 * input the bytes go into shared memory; if one input runs past hangMs the
 * worker writes it to fuzz-findings/<target>/<hash>.bin (with a .txt saying
 * why) and kills the process, and `npm run fuzz` reports it.
 */
import { Worker } from 'node:worker_threads';

const CTRL = 64; // bytes: Int32 seq, running, length, name length, truncated; Float64 start at 32
const NAME = 128;

export class Watchdog {
  private readonly ctrl: Int32Array;
  private readonly start: Float64Array;
  private readonly name: Uint8Array;
  private readonly data: Uint8Array;
  private readonly worker: Worker;

  constructor(findingsDir: string, hangMs: number, maxInput = 8 * 1024 * 1024) {
    const sab = new SharedArrayBuffer(CTRL + NAME + maxInput);
    this.ctrl = new Int32Array(sab, 0, 8);
    this.start = new Float64Array(sab, 32, 1);
    this.name = new Uint8Array(sab, CTRL, NAME);
    this.data = new Uint8Array(sab, CTRL + NAME);
    this.worker = new Worker(new URL('./watchdog-worker.mjs', import.meta.url), { workerData: { sab, findingsDir, hangMs, ctrl: CTRL, nameSize: NAME } });
    this.worker.unref();
  }

  begin(target: string, input: Uint8Array): void {
    const n = Math.min(input.length, this.data.length);
    this.data.set(input.subarray(0, n));
    const nameBytes = Buffer.from(target, 'utf8').subarray(0, NAME);
    this.name.set(nameBytes);
    this.ctrl[2] = n;
    this.ctrl[3] = nameBytes.length;
    this.ctrl[4] = n < input.length ? 1 : 0;
    this.start[0] = Date.now();
    Atomics.add(this.ctrl, 0, 1);
    Atomics.store(this.ctrl, 1, 1);
  }

  end(): void {
    Atomics.store(this.ctrl, 1, 0);
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}
