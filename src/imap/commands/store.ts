/** STORE and UID STORE, with UNCHANGEDSINCE (CONDSTORE, RFC 7162 3.1.3). */
import { bad, fetchResponse, flagsValue, modseqValue, no, ok, type FetchResponseItem } from '../../codec/imap/index.js';
import { resolveSet, seqsIn } from '../sets.js';
import { SYSTEM_FLAGS } from '../selected.js';
import type { ImapSession } from '../session.js';
import type { Cmd } from './types.js';

/** UIDs sent to the store in one call. */
const BATCH = 5000;

export async function store(s: ImapSession, cmd: Cmd<'STORE'>): Promise<Buffer | null> {
  const sel = s.selected!;
  if (sel.readOnly) return no(cmd.tag, 'Mailbox is read-only');
  // \Recent cannot be set or cleared by a client; other "\" flags do not exist.
  const flags = cmd.flags.filter((f) => f !== '\\Recent');
  if (flags.some((f) => f.startsWith('\\') && !SYSTEM_FLAGS.includes(f))) return bad(cmd.tag, 'Unknown system flag');
  if (cmd.unchangedSince !== null) s.condstore = true;
  if (!(await s.updates(false))) return null;
  const view = sel.view;
  const r = resolveSet(view, cmd.set, cmd.uid, s.saved);
  if (!r.ok) return bad(cmd.tag, r.message);
  const unchangedSince = cmd.unchangedSince === null ? undefined : Number(cmd.unchangedSince > BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(Number.MAX_SAFE_INTEGER) : cmd.unchangedSince);

  const seqs: number[] = [];
  for (const seq of seqsIn(r.ranges)) if (!view.isExpunged(view.uidAt(seq))) seqs.push(seq);
  const conflicts = new Set<number>();
  const changed = new Set<number>();
  for (let i = 0; i < seqs.length; i += BATCH) {
    const uids = seqs.slice(i, i + BATCH).map((seq) => view.uidAt(seq));
    const result = await s.deps.mailboxes.storeFlags(sel.id, {
      uids,
      op: cmd.operation,
      flags,
      ...(unchangedSince !== undefined ? { unchangedSince } : {}),
    });
    for (const m of result.changed) {
      view.setFlags(m.uid, m.flags, m.modseq);
      sel.storedFlags(m.uid);
      changed.add(m.uid);
    }
    for (const uid of result.conflicts) conflicts.add(uid);
  }
  if (changed.size > 0) s.deps.notifier.changed(sel.id);
  // A keyword new to the mailbox is announced before the FETCH responses that show it.
  s.send(sel.keywordUpdates());

  let sent = 0;
  for (const seq of seqs) {
    const uid = view.uidAt(seq);
    if (conflicts.has(uid)) continue;
    // .SILENT still reports the new MODSEQ under CONDSTORE (RFC 7162 3.1.3).
    if (cmd.silent && !(s.condstore && changed.has(uid))) continue;
    const items: FetchResponseItem[] = [];
    if (!cmd.silent) items.push(['FLAGS', flagsValue(view.flagsAt(seq))]);
    if (cmd.uid) items.unshift(['UID', uid]);
    if (s.condstore) items.push(['MODSEQ', modseqValue(view.modseqAt(seq))]);
    s.send(fetchResponse(seq, items));
    if (++sent % 1000 === 0) await s.port.out.flush();
  }
  if (conflicts.size > 0) {
    const set = cmd.uid ? [...conflicts] : [...conflicts].map((uid) => view.seqOf(uid));
    return ok(cmd.tag, 'Conditional STORE failed for some messages', { code: 'MODIFIED', set });
  }
  return ok(cmd.tag, 'STORE completed');
}
