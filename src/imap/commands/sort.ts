/**
 * SORT and UID SORT (RFC 5256), with DISPLAYFROM/DISPLAYTO (RFC 5957), ESORT
 * RETURN options, PARTIAL and UPDATE (RFC 5267) and MODSEQ (RFC 7162). The messages are found as
 * SEARCH finds them; their keys come from the header cache (collectFacts).
 */
import { esortResponse, no, ok, partialSlice, sortResponse, type SortReturnOption } from '../../codec/imap/index.js';
import { sortMessages, sortNeedsHeader } from '../../mailbox/sort.js';
import { problemResponse } from '../content.js';
import { keepUpdated, refuseUpdate } from '../context.js';
import { collectFacts } from '../facts.js';
import type { ImapSession } from '../session.js';
import { CHARSETS, findMatching } from './search.js';
import type { Cmd } from './types.js';

export async function sort(s: ImapSession, cmd: Cmd<'SORT'>): Promise<Buffer | null> {
  if (!CHARSETS.includes(cmd.charset)) return no(cmd.tag, 'Unsupported charset', { code: 'BADCHARSET', charsets: CHARSETS });
  if (!(await s.updates(false))) return null;
  const update = cmd.returnOptions?.includes('UPDATE') ?? false;
  const refused = update ? refuseUpdate(s, cmd.tag) : null;
  if (refused) return refused;
  const run = await findMatching(s, cmd.criteria);
  const { facts, problems } = await collectFacts(s, run.found, sortNeedsHeader(cmd.sort));
  const sorted = sortMessages(facts, cmd.sort);
  const numbers = sorted.map((f) => (cmd.uid ? f.uid : f.seq));
  let modseq: number | undefined;
  if (run.plan.modseq) for (const f of run.found) if (modseq === undefined || f.modseq > modseq) modseq = f.modseq;
  if (cmd.returnOptions === null) s.send(sortResponse(numbers, modseq));
  else {
    // RETURN () means ALL (RFC 5267 section 3).
    const options = new Set<SortReturnOption>(cmd.returnOptions.length === 0 && !cmd.partial ? ['ALL'] : cmd.returnOptions);
    const partial = cmd.partial ? { range: cmd.partial, numbers: partialSlice(numbers, cmd.partial) } : undefined;
    s.send(esortResponse({ tag: cmd.tag, uid: cmd.uid, numbers, options, ...(modseq !== undefined ? { modseq } : {}), ...(partial ? { partial } : {}) }));
  }
  if (update) keepUpdated(s.selected!, { tag: cmd.tag, uid: cmd.uid, criteria: cmd.criteria, sort: cmd.sort, uids: sorted.map((f) => f.uid) });
  const all = [...run.problems, ...problems];
  if (all.length > 0) return problemResponse(cmd, all, 'SORT');
  return ok(cmd.tag, 'SORT completed');
}
