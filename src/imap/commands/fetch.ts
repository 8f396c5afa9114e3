/**
 * FETCH and UID FETCH (RFC 9051 6.4.5), with CHANGEDSINCE and VANISHED
 * (RFC 7162). Flags, UIDs and modseqs come from the view; sizes and dates
 * from one store query per batch; ENVELOPE, BODYSTRUCTURE and header
 * sections from the header cache (one store query per batch), which is
 * filled when a message had to be read for them; message bytes are read only
 * for items that need them, in batches bounded by count and bytes so memory
 * stays flat however large the folder or the messages are.
 */
import { bad, fetchResponse, inSequenceSet, no, ok, vanishedResponse } from '../../codec/imap/index.js';
import { readDetail, type CachedDetail } from '../../mailbox/header-cache.js';
import { DEFAULT_MAX_PARTS } from '../../codec/mime/index.js';
import type { MailMessage } from '../../store/types.js';
import { CacheFiller, readCache } from '../cache.js';
import { loadContent, problemResponse, readAhead, type ContentProblem, type Loaded } from '../content.js';
import { resolveSet, seqsIn } from '../sets.js';
import { answers, EnvelopeOnly, structureFrom } from '../structure.js';
import type { ImapSession } from '../session.js';
import { fetchItems, PartBeyondLimit, planFetch, UnknownCte, viewOnly, viewOnlyLine, type FetchPlan, type MessageData } from './fetch-items.js';
import type { Cmd } from './types.js';

/** Messages per store query. */
const META_BATCH = 1000;
/** Messages, and bytes of message data, held before they are written out. */
const EMIT_MESSAGES = 200;
const EMIT_BYTES = 8 * 1024 * 1024;
const MAX_UID = 0xffffffff;

const toNumber = (n: bigint): number => (n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n));

export async function fetch(s: ImapSession, cmd: Cmd<'FETCH'>): Promise<Buffer | null> {
  const sel = s.selected!;
  const view = sel.view;
  if (cmd.vanished && !(cmd.uid && cmd.changedSince !== null && s.qresync)) {
    return bad(cmd.tag, 'VANISHED needs UID FETCH with CHANGEDSINCE, and QRESYNC enabled');
  }
  if (cmd.changedSince !== null || cmd.items.some((i) => i.name === 'MODSEQ')) s.condstore = true;
  if (!(await s.updates(false))) return null;
  const r = resolveSet(view, cmd.set, cmd.uid, s.saved);
  if (!r.ok) return bad(cmd.tag, r.message);
  const plan = planFetch(cmd.items, cmd.uid, cmd.changedSince !== null);
  const since = cmd.changedSince === null ? null : toNumber(cmd.changedSince);

  if (cmd.vanished && since !== null && cmd.set.type === 'set') {
    const ranges = cmd.set.ranges;
    const gone = (await s.deps.mailboxes.changesSince(sel.id, since)).expunged.filter((uid) => inSequenceSet(ranges, uid, MAX_UID));
    s.send(vanishedResponse(gone, true));
  }

  const seqs: number[] = [];
  for (const seq of seqsIn(r.ranges)) {
    if (view.isExpunged(view.uidAt(seq))) continue; // expunged elsewhere: its data is gone
    if (since !== null && view.modseqAt(seq) <= since) continue;
    seqs.push(seq);
  }
  if (viewOnly(plan)) {
    for (let i = 0; i < seqs.length; i += META_BATCH) {
      let text = '';
      for (const seq of seqs.slice(i, i + META_BATCH)) text += viewOnlyLine(plan, view, seq);
      s.send(Buffer.from(text, 'utf8'));
      await s.port.out.flush();
    }
    return ok(cmd.tag, 'FETCH completed');
  }
  const problems: ContentProblem[] = [];
  const run = new FetchRun(s, plan, sel.readOnly);
  // Without other byte items, the header cache can stand in for the bytes.
  const fromCache = !plan.bytes && (plan.structure || plan.header);
  const filler = new CacheFiller(s);
  // Held in memory, with the body structure if the plan needs it.
  const known = (blobId: string): boolean => answers(s.cache.peek(blobId), plan.body);
  try {
    for (let i = 0; i < seqs.length; i += META_BATCH) {
      const chunk = seqs.slice(i, i + META_BATCH);
      const metas = plan.meta ? await metadata(s, sel.id, chunk.map((q) => view.uidAt(q))) : null;
      const rows: Array<MessageData & { fill: boolean }> = [];
      for (const seq of chunk) {
        const message = metas?.get(view.uidAt(seq)) ?? null;
        if (metas && !message) continue; // expunged by another session a moment ago
        rows.push({ seq, message, content: null, fill: false });
      }
      // Structures already in memory need no store read; anything else the plan needs comes from the cache if it holds it.
      // get() once per message keeps a known structure among the newest while the batch is read; has() after that.
      const wanted = (d: MessageData): boolean => d.message !== null && (plan.header || !answers(s.cache.get(d.message.blobId), plan.body));
      const stillWanted = (d: MessageData): boolean => d.message !== null && (plan.header || !known(d.message.blobId));
      const cached = fromCache ? await readCache(s, rows.filter(wanted).map((d) => d.message!.blobId), true) : null;
      for (let k = 0; cached && k < rows.length; k++) {
        const d = rows[k]!;
        if (!stillWanted(d)) continue;
        const row = cached.get(d.message!.blobId);
        const detail = row ? readDetail(row) : null;
        if (row && !detail) filler.damaged++;
        // A detail made for ENVELOPE alone is completed by the first FETCH that needs the body structure.
        rows[k] = { ...d, cached: usable(plan, detail) ? detail : null, fill: !detail || (plan.body && detail.bodyPending) };
      }
      const needsBytes = (d: MessageData): boolean => {
        if (d.message === null) return false;
        if (plan.bytes) return true;
        return (plan.structure || plan.header) && !d.cached && (plan.header || !known(d.message.blobId));
      };
      const load = (d: MessageData): Promise<Loaded | null> => (needsBytes(d) ? loadContent(s, view.uidAt(d.seq), d.message!.blobId) : Promise.resolve(null));
      for await (const [d, loaded] of readAhead(rows, load, (d) => (needsBytes(d) ? d.message!.size : 0))) {
        if (loaded && !loaded.ok) {
          problems.push({ uid: view.uidAt(d.seq), problem: loaded.problem });
          continue;
        }
        if (loaded && d.fill) {
          const blobId = d.message!.blobId;
          // ENVELOPE alone (no header section asked) needs only the header section: no MIME parse.
          const uid = view.uidAt(d.seq);
          const text = plan.structure && !plan.body && !plan.header ? await filler.addEnvelope(blobId, loaded.content.data, uid) : null;
          if (text !== null) {
            if (!s.cache.has(blobId)) s.cache.set(blobId, new EnvelopeOnly(text));
          } else {
            const derived = await filler.add(blobId, loaded.content.mime, uid);
            // The structure the entry was just built from answers this FETCH too: it is not built twice.
            if (derived && plan.structure && !known(blobId)) s.cache.set(blobId, structureFrom(derived.structure, derived.structure.envelopeText));
          }
        }
        await run.add({ seq: d.seq, message: d.message, content: loaded?.content ?? null, cached: d.cached ?? null });
      }
      await filler.flush();
    }
    await run.emit();
  } catch (e) {
    if (e instanceof UnknownCte) return no(cmd.tag, `Unknown Content-Transfer-Encoding "${e.message.slice(0, 40)}"`, 'UNKNOWN-CTE');
    if (e instanceof PartBeyondLimit) return no(cmd.tag, `Part ${e.message.slice(0, 40)} lies past the ${DEFAULT_MAX_PARTS} MIME parts postern reads; BODY[] gives the whole message`, 'LIMIT');
    throw e;
  }
  if (problems.length > 0) return problemResponse(cmd, problems, 'FETCH');
  return ok(cmd.tag, 'FETCH completed');
}

/** The cached detail serves the plan: it kept the structure (if asked for) and the header section (if asked for). */
function usable(plan: FetchPlan, detail: CachedDetail | null): detail is CachedDetail {
  const structure = detail !== null && (detail.hasStructure || (!plan.body && detail.envelopeText !== null));
  return detail !== null && (!plan.structure || structure) && (!plan.header || detail.header !== null);
}

async function metadata(s: ImapSession, folderId: number, uids: number[]): Promise<Map<number, MailMessage>> {
  const out = new Map<number, MailMessage>();
  for (const m of await s.deps.mailboxes.getMessages(folderId, uids)) out.set(m.uid, m);
  return out;
}

/** Gathers messages, sets \Seen for the batch in one store call, then writes their responses. */
class FetchRun {
  private batch: MessageData[] = [];
  private bytes = 0;

  constructor(
    private readonly s: ImapSession,
    private readonly plan: FetchPlan,
    private readonly readOnly: boolean,
  ) {}

  async add(d: MessageData): Promise<void> {
    this.batch.push(d);
    this.bytes += d.content?.data.length ?? 0;
    if (this.batch.length >= EMIT_MESSAGES || this.bytes >= EMIT_BYTES) await this.emit();
  }

  async emit(): Promise<void> {
    const batch = this.batch;
    this.batch = [];
    this.bytes = 0;
    if (batch.length === 0) return;
    const s = this.s;
    const sel = s.selected!;
    const view = sel.view;
    const seenNow = new Set<number>();
    if (this.plan.setsSeen && !this.readOnly) {
      const unseen = batch.map((d) => view.uidAt(d.seq)).filter((uid) => !view.flagsAt(view.seqOf(uid)).includes('\\Seen'));
      if (unseen.length > 0) {
        const result = await s.deps.mailboxes.storeFlags(sel.id, { uids: unseen, op: 'add', flags: ['\\Seen'] });
        for (const m of result.changed) {
          view.setFlags(m.uid, m.flags, m.modseq);
          sel.storedFlags(m.uid);
          seenNow.add(m.uid);
        }
        if (result.changed.length > 0) s.deps.notifier.changed(sel.id);
      }
    }
    for (const d of batch) {
      s.send(fetchResponse(d.seq, fetchItems(this.plan, view, d, s.cache, seenNow.has(view.uidAt(d.seq))), s.encode));
    }
    await s.port.out.flush();
  }
}
