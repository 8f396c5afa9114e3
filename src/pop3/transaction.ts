/**
 * TRANSACTION state commands (RFC 1939 section 5) over the session's maildrop.
 * Message bytes come straight from the blob store, which verifies them on
 * every read: a damaged or missing blob is refused with [SYS/PERM], never
 * served as if it were good.
 */
import { extractTop, pop3Err, pop3MultiLine, pop3MultiLineText, pop3Ok, type Pop3Command } from '../codec/pop3/index.js';
import { isPosternError } from '../core/errors.js';
import type { Logger } from '../metrics/logger.js';
import type { BlobStore } from '../store/types.js';
import type { Maildrop, MaildropMessage } from './maildrop.js';

export type TransactionCommand =
  | { readonly cmd: 'STAT' | 'RSET' | 'NOOP' }
  | Extract<Pop3Command, { cmd: 'LIST' | 'UIDL' | 'RETR' | 'DELE' | 'TOP' }>;

const NO_SUCH_MESSAGE = pop3Err('No such message');
export const DAMAGED = pop3Err('message is damaged', 'SYS/PERM');

export function isTransactionCommand(c: Pop3Command): c is TransactionCommand {
  return ['STAT', 'LIST', 'UIDL', 'RETR', 'TOP', 'DELE', 'RSET', 'NOOP'].includes(c.cmd);
}

/** The message's bytes, or the -ERR to answer instead. */
async function load(blobs: BlobStore, m: MaildropMessage, log: Logger): Promise<Buffer> {
  try {
    const u8 = await blobs.get(m.blobId);
    return Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
  } catch (err) {
    if (isPosternError(err, 'INTEGRITY') || isPosternError(err, 'NOT_FOUND')) {
      log.error({ uid: m.uid, blobId: m.blobId, code: err.code }, 'damaged message not served');
      return DAMAGED;
    }
    throw err;
  }
}

/** Answers one TRANSACTION command; returns the reply as Buffers to write in order. */
export async function transaction(cmd: TransactionCommand, drop: Maildrop, blobs: BlobStore, log: Logger): Promise<Buffer[]> {
  switch (cmd.cmd) {
    case 'NOOP':
      return [pop3Ok()];
    case 'STAT': {
      const { count, size } = drop.stat();
      return [pop3Ok(`${count} ${size}`)];
    }
    case 'LIST':
    case 'UIDL': {
      const line = (n: number, m: MaildropMessage) => `${n} ${cmd.cmd === 'LIST' ? m.size : drop.uniqueId(m)}`;
      if (cmd.msg !== null) {
        const m = drop.get(cmd.msg);
        return [m ? pop3Ok(line(cmd.msg, m)) : NO_SUCH_MESSAGE];
      }
      const { count, size } = drop.stat();
      const status = pop3Ok(cmd.cmd === 'LIST' ? `${count} messages (${size} octets)` : 'Unique-ID listing follows');
      return [pop3MultiLineText(status, drop.listing().map(([n, m]) => line(n, m)))];
    }
    case 'RETR':
    case 'TOP': {
      const m = drop.get(cmd.msg);
      if (!m) return [NO_SUCH_MESSAGE];
      const bytes = await load(blobs, m, log);
      if (bytes === DAMAGED) return [DAMAGED];
      if (cmd.cmd === 'TOP') return pop3MultiLine(pop3Ok('Top of message follows'), extractTop(bytes, cmd.lines));
      return pop3MultiLine(pop3Ok(`${bytes.length} octets`), bytes);
    }
    case 'DELE':
      return [drop.delete(cmd.msg) ? pop3Ok(`Message ${cmd.msg} deleted`) : NO_SUCH_MESSAGE];
    case 'RSET': {
      drop.reset();
      const { count, size } = drop.stat();
      return [pop3Ok(`Maildrop has ${count} messages (${size} octets)`)];
    }
  }
}
