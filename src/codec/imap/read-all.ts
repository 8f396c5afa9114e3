/**
 * Drives an ImapCommandReader over a finished byte stream, answering each
 * literal request with decide() (accept by default). For tests and tools that
 * replay transcripts; a server drives the reader itself.
 */
import { ImapCommandReader, type ImapReaderEvent, type ImapReaderOptions } from './reader.js';

export function readAll(
  chunks: Iterable<Buffer>,
  options: ImapReaderOptions = {},
  decide: (request: ImapReaderEvent & { type: 'literal-request' }) => boolean = () => true,
): ImapReaderEvent[] {
  const reader = new ImapCommandReader(options);
  const events: ImapReaderEvent[] = [];
  const drain = (): void => {
    for (let ev = reader.next(); ev !== null; ev = reader.next()) {
      events.push(ev);
      if (ev.type === 'literal-request') {
        if (decide(ev)) reader.acceptLiteral();
        else reader.refuseLiteral();
      }
    }
  };
  for (const chunk of chunks) {
    reader.push(chunk);
    drain();
  }
  return events;
}
