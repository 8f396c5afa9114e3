/**
 * One POP3 connection: the shared line-protocol connection (socket, TLS
 * implicit or after STLS, deadlines, back-pressure, bounded close) with
 * POP3's reader and replies. The protocol itself lives in session.ts.
 */
import { Pop3LineReader, pop3Err, type Pop3ReaderEvent } from '../codec/pop3/index.js';
import { LineConnection } from '../net/line-protocol/connection.js';
import type { Pop3Session } from './session.js';
import type { Pop3Wire } from './wire.js';

/**
 * Longest command line, CRLF included. RFC 2449's 255 octets cannot carry
 * "AUTH PLAIN <initial response>" for a long address and password, so both
 * command lines and SASL response lines may be 2048 octets: a 254-octet
 * address with a 1000-octet password still fits.
 */
export const MAX_LINE_LENGTH = 2048;

export class Pop3Connection extends LineConnection<Pop3ReaderEvent, Pop3Session> implements Pop3Wire {
  // RFC 1939 section 3: the autologout timer closes without UPDATE and without a reply.
  protected readonly idleFarewell = null;
  protected readonly shutdownFarewell = null;
  // POP3 has no uploads: every byte is part of a command line.
  protected readonly minTransferRate = 1;
  private lineReader: Pop3LineReader | null = null;

  protected newReader(): Pop3LineReader {
    this.lineReader = new Pop3LineReader({ maxLineLength: MAX_LINE_LENGTH, maxRawLineLength: MAX_LINE_LENGTH });
    return this.lineReader;
  }

  protected farewell(text: string): Buffer {
    return pop3Err(text, 'SYS/TEMP');
  }

  protected tlsStarted(session: Pop3Session): void {
    session.tlsStarted();
  }

  protected override afterCommand(session: Pop3Session): void {
    this.lineReader?.setMode(session.wantsRawLine ? 'raw' : 'command');
  }
}
