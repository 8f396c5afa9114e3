/**
 * Response output for one connection: small responses are gathered and
 * written together, message data is written without copying, and flush()
 * waits while the socket's buffer is full so a FETCH of a large mailbox
 * never holds more than a bounded amount of output in memory. A client that
 * stops reading is cut off after the write timeout, never waited for for ever.
 */
import type { Duplex } from 'node:stream';
import { waitForDrain } from '../net/drain.js';

/** Pending bytes that trigger a write even before flush(). */
const BATCH_BYTES = 64 * 1024;

export class Output {
  private parts: Buffer[] = [];
  private bytes = 0;

  /** writeTimeoutMs: how long the client may leave our output unread before the connection is cut. */
  constructor(
    private stream: Duplex,
    private readonly writeTimeoutMs: number,
  ) {}

  /** Points output at a new stream (after STARTTLS); anything pending is dropped. */
  setStream(stream: Duplex): void {
    this.stream = stream;
    this.parts = [];
    this.bytes = 0;
  }

  get closed(): boolean {
    return this.stream.destroyed || this.stream.writableEnded;
  }

  send(data: Buffer | readonly Buffer[]): void {
    if (Buffer.isBuffer(data)) {
      if (data.length === 0) return;
      this.parts.push(data);
      this.bytes += data.length;
    } else {
      for (const b of data) {
        if (b.length === 0) continue;
        this.parts.push(b);
        this.bytes += b.length;
      }
    }
    if (this.bytes >= BATCH_BYTES) this.writePending();
  }

  private writePending(): void {
    if (this.parts.length === 0) return;
    const parts = this.parts;
    this.parts = [];
    this.bytes = 0;
    if (this.closed) return;
    if (parts.length === 1) {
      this.stream.write(parts[0]!);
      return;
    }
    // Join runs of small buffers; big ones (message data) go out as they are.
    this.stream.cork();
    let run: Buffer[] = [];
    const flushRun = (): void => {
      if (run.length > 0) this.stream.write(run.length === 1 ? run[0]! : Buffer.concat(run));
      run = [];
    };
    for (const p of parts) {
      if (p.length >= 16 * 1024) {
        flushRun();
        this.stream.write(p);
      } else run.push(p);
    }
    flushRun();
    this.stream.uncork();
  }

  /** Writes everything pending and waits until the socket can take more. */
  async flush(): Promise<void> {
    this.writePending();
    if (this.closed) return;
    await waitForDrain(this.stream, this.writeTimeoutMs);
  }

  /** Writes pending output and the given bytes, and resolves when they reached the socket. */
  async writeNow(data: Buffer): Promise<void> {
    this.writePending();
    if (this.closed) return;
    const s = this.stream;
    await new Promise<void>((resolve) => {
      // The callback comes once the bytes reached the socket; a client that reads nothing never lets them.
      const timer = setTimeout(() => {
        s.destroy();
        resolve();
      }, this.writeTimeoutMs);
      s.write(data, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** Runs async jobs one at a time, in the order they were queued. */
export class Serial {
  private tail: Promise<void> = Promise.resolve();

  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
