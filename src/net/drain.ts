import type { Writable } from 'node:stream';

export type DrainResult = 'drained' | 'closed' | 'timeout';

/**
 * Waits until a stream whose buffer is full can take more. A peer that stops
 * reading while we write (a large FETCH or RETR, an outbound DATA) must not
 * hold its connection for ever: with no 'drain' within timeoutMs the stream is
 * destroyed. Says whether writing may go on, the stream closed, or time ran out.
 */
export function waitForDrain(stream: Writable, timeoutMs: number, onTimeout?: () => void): Promise<DrainResult> {
  if (stream.destroyed) return Promise.resolve('closed');
  if (!stream.writableNeedDrain) return Promise.resolve('drained');
  return new Promise((resolve) => {
    const done = (r: DrainResult): void => {
      clearTimeout(timer);
      stream.off('drain', onDrain);
      stream.off('close', onClose);
      resolve(r);
    };
    const onDrain = (): void => done('drained');
    const onClose = (): void => done('closed');
    const timer = setTimeout(() => {
      onTimeout?.(); // before the destroy, so the owner can record why the stream died
      done('timeout');
      stream.destroy();
    }, timeoutMs);
    stream.on('drain', onDrain);
    stream.on('close', onClose);
  });
}
