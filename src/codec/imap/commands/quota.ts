/** QUOTA commands (RFC 9208): GETQUOTA, GETQUOTAROOT, SETQUOTA. */
import type { ImapCommand } from '../ast.js';
import type { Cursor } from '../cursor.js';
import { fail } from '../errors.js';

export function parseGetQuota(c: Cursor, tag: string): ImapCommand {
  c.sp();
  const root = c.astringText('quota root');
  c.end();
  return { tag, name: 'GETQUOTA', root };
}

export function parseGetQuotaRoot(c: Cursor, tag: string): ImapCommand {
  c.sp();
  const mailbox = c.mailbox();
  c.end();
  return { tag, name: 'GETQUOTAROOT', mailbox };
}

/** SETQUOTA SP quota-root SP "(" [resource-name SP resource-limit *(SP ...)] ")" */
export function parseSetQuota(c: Cursor, tag: string): ImapCommand {
  c.sp();
  const root = c.astringText('quota root');
  c.sp();
  const limits = c.list(() => {
    const resource = c.word('resource name');
    c.sp();
    const n = c.number64();
    if (n > BigInt(Number.MAX_SAFE_INTEGER)) fail('Resource limit out of range');
    return { resource, limit: Number(n) };
  });
  c.end();
  return { tag, name: 'SETQUOTA', root, limits };
}
