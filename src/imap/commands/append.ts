/**
 * APPEND (with MULTIAPPEND's several messages), answered with APPENDUID
 * (UIDPLUS, RFC 4315). The header cache entry of each message is stored
 * with it, in its own transaction, so the first SEARCH or FETCH of it need
 * not read it back.
 */
import { contentDigest } from '../../crypto/blockcodec.js';
import { bad, no, ok } from '../../codec/imap/index.js';
import { checkHeaderSection, checkStorable, firstNul, parseHeaderSection, parseMessage, type StorableRefusal } from '../../codec/mime/index.js';
import type { AppendMessage } from '../../codec/imap/index.js';
import { cacheEntry } from '../../mailbox/header-cache.js';
import type { HeaderCacheEntry } from '../../store/types.js';
import { resolveCatenate } from './catenate.js';
import { findFolder } from '../names.js';
import { SYSTEM_FLAGS } from '../selected.js';
import type { ImapSession } from '../session.js';
import type { Cmd } from './types.js';

const WHY: Record<StorableRefusal, string> = {
  nul: 'Message contains NUL bytes outside a binary literal body',
  'header-too-large': 'Message header section is too large',
  'header-no-colon': 'Message header section is malformed: a line is not a header field',
  'header-bad-name': 'Message header section is malformed: a field name is invalid',
  'header-orphan-continuation': 'Message header section is malformed: it starts with a continuation line',
  'no-header': 'Message has no header fields',
};

/**
 * What IMAP stores, starting from postern's storage rule (the one SMTP
 * applies at the end of DATA) and loosened where IMAP allows more:
 *  - a message that starts with the empty line (no header fields at all) is
 *    stored: where its header ends is beyond doubt (RFC 3501 lets a client
 *    append any octets; imaptest's ESEARCH messages are such);
 *  - NUL bytes are stored when they came in a literal8 (RFC 3516 4.4) and lie
 *    in the body, never in the header section, where readers would disagree
 *    on a field. They are never sent back in an ordinary literal (see
 *    fetch-items.ts). A NUL in an ordinary literal is refused by the reader.
 */
function unstorable(tag: string, m: AppendMessage): Buffer | null {
  const v = checkStorable(m.data);
  if (v.ok || v.reason === 'no-header') return null;
  if (v.reason === 'nul') {
    if (!m.binary) return no(tag, WHY.nul, 'PARSE');
    const h = parseHeaderSection(m.data);
    if (firstNul(m.data) < h.bodyStart) return no(tag, 'Message header section contains NUL', 'PARSE');
    const rest = checkHeaderSection(m.data.subarray(0, h.bodyStart));
    return rest.ok || rest.reason === 'no-header' ? null : no(tag, WHY[rest.reason], 'PARSE');
  }
  return no(tag, WHY[v.reason], 'PARSE');
}

/** A message's header cache entry, or null (it is then derived on first use). */
function headerEntry(s: ImapSession, blobId: string, data: Uint8Array): HeaderCacheEntry | null {
  try {
    return cacheEntry(blobId, parseMessage(data));
  } catch (err) {
    s.log.warn({ err, blobId }, 'header cache entry not derived');
    return null;
  }
}

export async function append(s: ImapSession, cmd: Cmd<'APPEND'>): Promise<Buffer> {
  const folder = await findFolder(s, cmd.mailbox);
  if (!folder) return no(cmd.tag, 'No such mailbox', 'TRYCREATE');
  const limit = s.deps.limits.maxLiteralSize;
  // CATENATE messages are joined first; one bad URL refuses the whole command (RFC 4469 5).
  const messages: AppendMessage[] = [];
  for (const m of cmd.messages) {
    if (!m.catenate) {
      messages.push(m);
      continue;
    }
    const r = await resolveCatenate(s, cmd.tag, m, limit);
    if (!r.ok) return r.response;
    messages.push(r.message);
  }
  let total = 0;
  for (const m of messages) {
    if (m.data.length === 0) return no(cmd.tag, 'Empty message');
    if (m.data.length > limit) return no(cmd.tag, `Message larger than ${limit} octets`, 'TOOBIG');
    if (m.flags.some((f) => f.startsWith('\\') && f !== '\\Recent' && !SYSTEM_FLAGS.includes(f))) return bad(cmd.tag, 'Unknown system flag');
    const refusal = unstorable(cmd.tag, m);
    if (refusal) return refusal;
    total += m.data.length;
  }
  const account = s.account!;
  const repo = s.deps.mailboxes;
  if (account.quotaBytes !== null && (await repo.usage(account.id)) + total > account.quotaBytes) {
    return no(cmd.tag, 'Quota exceeded', 'OVERQUOTA');
  }
  const uids: number[] = [];
  try {
    for (const m of messages) {
      // The message row's commit (synced before the tagged OK) makes the blob durable with it.
      const putting = s.deps.blobs.put(m.data, { syncedByCommit: true });
      putting.catch(() => undefined); // awaited below; a failure must not count as unhandled meanwhile
      // The header cache entry is derived while a blob file is written off the event loop,
      // and stored in the message's own transaction. It is keyed by the content address
      // (SHA-256) the blob stores name blobs by.
      const predicted = contentDigest(m.data).toString('hex');
      let entry = headerEntry(s, predicted, m.data);
      const blob = await putting;
      if (blob.id !== predicted) entry = headerEntry(s, blob.id, m.data);
      const internalDate = m.date ? m.date.date.getTime() : s.deps.clock.now();
      const flags = [...new Set(m.flags.filter((f) => f !== '\\Recent'))];
      const stored = await repo.append(folder.id, { blobId: blob.id, size: blob.size, internalDate, flags, headerCache: entry });
      uids.push(stored.uid);
    }
  } catch (e) {
    // MULTIAPPEND is all or nothing: take back what was stored before the failure.
    if (uids.length > 0) await repo.expunge(folder.id, uids).catch(() => undefined);
    throw e;
  } finally {
    if (uids.length > 0) s.deps.notifier.changed(folder.id);
  }
  if (s.selected?.id === folder.id) s.selected.dirty = true;
  s.log.debug({ folder: folder.name, uids, bytes: total }, 'appended');
  return ok(cmd.tag, 'APPEND completed', { code: 'APPENDUID', uidValidity: folder.uidValidity, uids });
}
