/**
 * THREAD and UID THREAD (RFC 5256): ORDEREDSUBJECT and REFERENCES over the
 * messages SEARCH criteria find, keys from the header cache (collectFacts).
 */
import { no, ok, threadResponse } from '../../codec/imap/index.js';
import { orderedSubject, referencesThreads } from '../../mailbox/thread.js';
import { problemResponse } from '../content.js';
import { collectFacts } from '../facts.js';
import type { ImapSession } from '../session.js';
import { CHARSETS, findMatching } from './search.js';
import type { Cmd } from './types.js';

export async function thread(s: ImapSession, cmd: Cmd<'THREAD'>): Promise<Buffer | null> {
  if (!CHARSETS.includes(cmd.charset)) return no(cmd.tag, 'Unsupported charset', { code: 'BADCHARSET', charsets: CHARSETS });
  if (!(await s.updates(false))) return null;
  const view = s.selected!.view;
  const run = await findMatching(s, cmd.criteria);
  const { facts, problems } = await collectFacts(s, run.found, true);
  const trees = cmd.algorithm === 'REFERENCES' ? referencesThreads(facts) : orderedSubject(facts);
  s.send(threadResponse(trees, cmd.uid ? (seq) => view.uidAt(seq) : undefined));
  const all = [...run.problems, ...problems];
  if (all.length > 0) return problemResponse(cmd, all, 'THREAD');
  return ok(cmd.tag, 'THREAD completed');
}
