/**
 * SEARCH and UID SEARCH (RFC 9051 6.4.4), with ESEARCH RETURN options
 * (RFC 4731), SAVE (RFC 5182) and MODSEQ (RFC 7162). Criteria on flags,
 * numbers and modseq are answered from the view; sizes and dates need one
 * store query per batch; a message is read and parsed only when its
 * headers or text can still change the answer.
 */
import { esearchResponse, no, ok, searchResponse } from '../../codec/imap/index.js';
import { matchMessage, planSearch, SearchContent, type SearchCandidate, type SearchScope } from '../../mailbox/search.js';
import type { MailMessage } from '../../store/types.js';
import { loadContent, problemResponse, readAhead, type ContentProblem, type Loaded } from '../content.js';
import type { ImapSession } from '../session.js';
import type { Cmd } from './types.js';

const BATCH = 1000;
const CHARSETS = ['UTF-8', 'US-ASCII'];

export async function search(s: ImapSession, cmd: Cmd<'SEARCH'>): Promise<Buffer | null> {
  if (cmd.charset !== null && !CHARSETS.includes(cmd.charset)) {
    s.saved = new Set();
    return no(cmd.tag, 'Unsupported charset', { code: 'BADCHARSET', charsets: CHARSETS });
  }
  const sel = s.selected!;
  const view = sel.view;
  if (!(await s.updates(false))) return null;
  const plan = planSearch(cmd.criteria);
  if (plan.modseq) s.condstore = true;
  const scope: SearchScope = { exists: view.exists, maxUid: view.maxUid, saved: s.saved };

  const found: SearchCandidate[] = [];
  const problems: ContentProblem[] = [];
  for (let start = 1; start <= view.exists; start += BATCH) {
    const seqs: number[] = [];
    for (let seq = start; seq < start + BATCH && seq <= view.exists; seq++) if (!view.isExpunged(view.uidAt(seq))) seqs.push(seq);
    let metas: Map<number, MailMessage> | null = null;
    if (plan.meta || plan.content) {
      metas = new Map();
      for (const m of await s.deps.mailboxes.getMessages(sel.id, seqs.map((q) => view.uidAt(q)))) metas.set(m.uid, m);
    }
    // First from flags, numbers and metadata; content is read (with read-ahead) only for the undecided.
    const undecided: Array<{ candidate: SearchCandidate; blobId: string }> = [];
    for (const seq of seqs) {
      const uid = view.uidAt(seq);
      const m = metas?.get(uid);
      if (metas && !m) continue;
      const candidate = { seq, uid, flags: view.flagsAt(seq), modseq: view.modseqAt(seq), size: m?.size, internalDate: m?.internalDate };
      const hit = matchMessage(cmd.criteria, candidate, scope, null);
      if (hit === undefined) undecided.push({ candidate, blobId: m!.blobId });
      else if (hit) found.push(candidate);
    }
    const load = (u: (typeof undecided)[number]): Promise<Loaded> => loadContent(s, u.candidate.uid, u.blobId);
    for await (const [u, loaded] of readAhead(undecided, load, (u) => u.candidate.size ?? 0)) {
      if (!loaded.ok) {
        problems.push({ uid: u.candidate.uid, problem: loaded.problem });
        continue;
      }
      if (matchMessage(cmd.criteria, u.candidate, scope, new SearchContent(loaded.content.mime))) found.push(u.candidate);
    }
  }
  found.sort((a, b) => a.seq - b.seq);
  let highestModseq = 0;
  for (const f of found) if (f.modseq > highestModseq) highestModseq = f.modseq;
  respond(s, cmd, found.map((f) => f.seq), plan.modseq && found.length > 0 ? highestModseq : undefined);
  if (problems.length > 0) return problemResponse(cmd, problems, 'SEARCH');
  return ok(cmd.tag, 'SEARCH completed');
}

function respond(s: ImapSession, cmd: Cmd<'SEARCH'>, seqs: number[], modseq: number | undefined): void {
  const view = s.selected!.view;
  const numbers = cmd.uid ? seqs.map((q) => view.uidAt(q)) : seqs;
  const options = cmd.returnOptions;
  if (options === null && !s.rev2) {
    s.send(searchResponse(numbers, modseq));
    return;
  }
  // No RETURN (IMAP4rev2) or RETURN () means ALL.
  const opts = new Set<string>(options === null || options.length === 0 ? ['ALL'] : options);
  const min = numbers.length > 0 ? numbers[0] : undefined;
  const max = numbers.length > 0 ? numbers[numbers.length - 1] : undefined;
  if (opts.has('SAVE')) {
    // With MIN or MAX, only those are saved (RFC 5182 2.1).
    const pick = opts.has('MIN') || opts.has('MAX') ? [opts.has('MIN') ? seqs[0] : undefined, opts.has('MAX') ? seqs[seqs.length - 1] : undefined] : seqs;
    s.saved = new Set(pick.filter((q): q is number => q !== undefined).map((q) => view.uidAt(q)));
    if (opts.size === 1) return; // SAVE alone: no ESEARCH response
  }
  s.send(
    esearchResponse({
      tag: cmd.tag,
      uid: cmd.uid,
      ...(opts.has('MIN') && min !== undefined ? { min } : {}),
      ...(opts.has('MAX') && max !== undefined ? { max } : {}),
      ...(opts.has('ALL') ? { all: numbers } : {}),
      ...(opts.has('COUNT') ? { count: numbers.length } : {}),
      ...(modseq !== undefined ? { modseq } : {}),
    }),
  );
}
