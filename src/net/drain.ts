import type { Writable } from 'node:stream';

/**
 * Waits until a stream whose buffer is full can take more. A client that
 * stops reading while we write (a large FETCH or RETR) must not hold its
 * connection for ever: with no 'drain' within timeoutMs the stream is
 * destroyed. Resolves true when writing may go on, false when the stream is gone.
 */
export function waitForDrain(stream: Writable, timeoutMs: number): Promise<boolean> {
  if (stream.destroyed) return Promise.resolve(false);
  if (!stream.writableNeedDrain) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      stream.off('drain', onDrain);
      stream.off('close', onClose);
      resolve(ok);
    };
    const onDrain = (): void => done(true);
    const onClose = (): void => done(false);
    const timer = setTimeout(() => {
      done(false);
      stream.destroy();
    }, timeoutMs);
    stream.on('drain', onDrain);
    stream.on('close', onClose);
  });
}
