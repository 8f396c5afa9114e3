/** Mailbox commands: SELECT, EXAMINE, CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, STATUS. */
import type { ImapCommand, QresyncParams } from '../ast.js';
import type { Cursor } from '../cursor.js';
import { fail } from '../errors.js';
import type { SequenceSet } from '../seqset.js';
import { flag, modseq, sequenceSet, statusItems } from './common.js';

/** QRESYNC SP "(" uidvalidity SP mod-sequence-value [SP known-uids] [SP seq-match-data] ")" (RFC 7162). */
function qresync(c: Cursor): QresyncParams {
  c.sp();
  c.expect(0x28, '"("');
  const uidValidity = c.nzNumber();
  c.sp();
  const ms = modseq(c);
  let knownUids: SequenceSet | null = null;
  let seqMatch: QresyncParams['seqMatch'] = null;
  if (c.trySp()) {
    if (c.peek() !== 0x28) knownUids = sequenceSet(c);
    if (knownUids === null || c.trySp()) {
      c.expect(0x28, '"("');
      const seqs = sequenceSet(c);
      c.sp();
      const uids = sequenceSet(c);
      c.expect(0x29, '")"');
      seqMatch = { seqs, uids };
    }
  }
  c.expect(0x29, '")"');
  return { uidValidity, modseq: ms, knownUids, seqMatch };
}

export function parseSelect(c: Cursor, tag: string, name: 'SELECT' | 'EXAMINE'): ImapCommand {
  c.sp();
  const mailbox = c.mailbox();
  let condstore = false;
  let qr: QresyncParams | null = null;
  if (c.trySp()) {
    c.list(() => {
      const p = c.word('select parameter');
      if (p === 'CONDSTORE') condstore = true;
      else if (p === 'QRESYNC') qr = qresync(c);
      else fail(`Unknown ${name} parameter ${p.slice(0, 40)}`);
    }, false);
  }
  c.end();
  return { tag, name, mailbox, condstore, qresync: qr };
}

/** CREATE SP mailbox [SP "(" "USE" SP "(" use-attr *(SP use-attr) ")" ")"] (RFC 6154). */
export function parseCreate(c: Cursor, tag: string): ImapCommand {
  c.sp();
  const mailbox = c.mailbox();
  const specialUse: string[] = [];
  if (c.trySp()) {
    c.list(() => {
      const p = c.word('create parameter');
      if (p !== 'USE') fail(`Unknown CREATE parameter ${p.slice(0, 40)}`);
      c.sp();
      specialUse.push(...c.list(() => flag(c)));
    }, false);
  }
  c.end();
  return { tag, name: 'CREATE', mailbox, specialUse };
}

export function parseOneMailbox(c: Cursor, tag: string, name: 'DELETE' | 'SUBSCRIBE' | 'UNSUBSCRIBE'): ImapCommand {
  c.sp();
  const mailbox = c.mailbox();
  c.end();
  return { tag, name, mailbox };
}

export function parseRename(c: Cursor, tag: string): ImapCommand {
  c.sp();
  const from = c.mailbox();
  c.sp();
  const to = c.mailbox();
  c.end();
  return { tag, name: 'RENAME', from, to };
}

export function parseStatus(c: Cursor, tag: string): ImapCommand {
  c.sp();
  const mailbox = c.mailbox();
  c.sp();
  const items = statusItems(c);
  c.end();
  return { tag, name: 'STATUS', mailbox, items };
}
