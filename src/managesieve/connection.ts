/**
 * One ManageSieve connection: the shared line-protocol connection (socket,
 * TLS after STARTTLS, deadlines, back-pressure, bounded close) with
 * ManageSieve's reader, literals and replies. The protocol lives in session.ts.
 */
import { ManageSieveReader, sieveBye, type ManageSieveReaderEvent } from '../codec/managesieve/index.js';
import { LineConnection } from '../net/line-protocol/connection.js';
import { SIEVE_LIMITS } from '../store/types.js';
import type { ManageSieveSession } from './session.js';
import type { ManageSieveWire } from './wire.js';

/** Longest line outside literals, CRLF included: room for AUTHENTICATE with a long address and password. */
export const MAX_LINE_LENGTH = 8 * 1024;
/** Bytes per second a script literal must average once the command timeout has passed. */
export const MIN_LITERAL_RATE = 1024;

export class ManageSieveConnection extends LineConnection<ManageSieveReaderEvent, ManageSieveSession> implements ManageSieveWire {
  protected readonly idleFarewell = 'Idle for too long';
  protected readonly shutdownFarewell = 'Server shutting down';
  protected readonly minTransferRate = MIN_LITERAL_RATE;
  private sieveReader: ManageSieveReader | null = null;

  // Literals are kept up to the script limit (plus room for a long name); larger ones are skipped and refused.
  protected newReader(): ManageSieveReader {
    this.sieveReader = new ManageSieveReader({ maxLineLength: MAX_LINE_LENGTH, maxLiteralSize: SIEVE_LIMITS.maxScriptBytes });
    return this.sieveReader;
  }

  protected override inTransfer(): boolean {
    return this.sieveReader?.inLiteral ?? false;
  }

  protected farewell(text: string): Buffer {
    return sieveBye(text, { atom: 'TRYLATER' });
  }

  // RFC 5804 section 2.2: the capabilities again, now that TLS is up.
  protected tlsStarted(session: ManageSieveSession): void {
    this.send(session.tlsStarted());
  }
}
