/** From a RawCommand to a typed ImapCommand; never throws. */
import type { ImapCommand } from './ast.js';
import { parseFetch } from './commands/fetch.js';
import { parseList, parseLsub } from './commands/list.js';
import { parseCreate, parseOneMailbox, parseRename, parseSelect, parseStatus } from './commands/mailbox.js';
import { parseAppend, parseCopyMove, parseExpunge, parseStore } from './commands/messages.js';
import { parseGetQuota, parseGetQuotaRoot, parseSetQuota } from './commands/quota.js';
import { parseCancelUpdate } from './commands/context.js';
import { parseNotify } from './commands/notify.js';
import { parseSearch } from './commands/search.js';
import { parseSort, parseThread } from './commands/sort.js';
import { parseGenUrlauth, parseResetKey, parseUrlFetch } from './commands/urlauth.js';
import { NO_ARG_COMMANDS, parseAuthenticate, parseEnable, parseId, parseLogin, parseNoArg } from './commands/session.js';
import { Cursor, type ImapParseOptions } from './cursor.js';
import { ParseFailure, type ImapParseError } from './errors.js';
import { isTagChar, type RawCommand } from './raw.js';

export type ImapParseResult = { readonly ok: true; readonly command: ImapCommand } | { readonly ok: false; readonly error: ImapParseError };

type Parser = (c: Cursor, tag: string) => ImapCommand;

const PARSERS = new Map<string, Parser>([
  ...NO_ARG_COMMANDS.map((n): [string, Parser] => [n, (c, tag) => parseNoArg(c, tag, n)]),
  ['AUTHENTICATE', parseAuthenticate],
  ['LOGIN', parseLogin],
  ['ENABLE', parseEnable],
  ['ID', parseId],
  ['SELECT', (c, tag) => parseSelect(c, tag, 'SELECT')],
  ['EXAMINE', (c, tag) => parseSelect(c, tag, 'EXAMINE')],
  ['CREATE', parseCreate],
  ['DELETE', (c, tag) => parseOneMailbox(c, tag, 'DELETE')],
  ['SUBSCRIBE', (c, tag) => parseOneMailbox(c, tag, 'SUBSCRIBE')],
  ['UNSUBSCRIBE', (c, tag) => parseOneMailbox(c, tag, 'UNSUBSCRIBE')],
  ['RENAME', parseRename],
  ['LIST', parseList],
  ['LSUB', parseLsub],
  ['STATUS', parseStatus],
  ['APPEND', parseAppend],
  ['EXPUNGE', (c, tag) => parseExpunge(c, tag, false)],
  ['SEARCH', (c, tag) => parseSearch(c, tag, false)],
  ['SORT', (c, tag) => parseSort(c, tag, false)],
  ['THREAD', (c, tag) => parseThread(c, tag, false)],
  ['FETCH', (c, tag) => parseFetch(c, tag, false)],
  ['STORE', (c, tag) => parseStore(c, tag, false)],
  ['COPY', (c, tag) => parseCopyMove(c, tag, 'COPY', false)],
  ['MOVE', (c, tag) => parseCopyMove(c, tag, 'MOVE', false)],
  ['CANCELUPDATE', parseCancelUpdate],
  ['GETQUOTA', parseGetQuota],
  ['GETQUOTAROOT', parseGetQuotaRoot],
  ['SETQUOTA', parseSetQuota],
  ['GENURLAUTH', parseGenUrlauth],
  ['RESETKEY', parseResetKey],
  ['URLFETCH', parseUrlFetch],
  ['NOTIFY', parseNotify],
]);

/** Commands allowed after "UID ". */
const UID_PARSERS = new Map<string, Parser>([
  ['EXPUNGE', (c, tag) => parseExpunge(c, tag, true)],
  ['SEARCH', (c, tag) => parseSearch(c, tag, true)],
  ['SORT', (c, tag) => parseSort(c, tag, true)],
  ['THREAD', (c, tag) => parseThread(c, tag, true)],
  ['FETCH', (c, tag) => parseFetch(c, tag, true)],
  ['STORE', (c, tag) => parseStore(c, tag, true)],
  ['COPY', (c, tag) => parseCopyMove(c, tag, 'COPY', true)],
  ['MOVE', (c, tag) => parseCopyMove(c, tag, 'MOVE', true)],
]);

/**
 * Parses one complete command. Errors carry the tag to answer with (`*` when
 * the line has no valid tag) and a message fit for `tag BAD message`.
 */
export function parseImapCommand(raw: RawCommand, options: ImapParseOptions = {}): ImapParseResult {
  let tag = '*';
  try {
    const c = new Cursor(raw, options);
    const t = c.chars(isTagChar, 'tag');
    if (t.length > 256) return { ok: false, error: { tag, code: 'syntax', message: 'Tag too long' } };
    tag = t;
    c.sp();
    const verb = c.word('command');
    if (verb === 'UID') {
      c.sp();
      const sub = c.word('command');
      const p = UID_PARSERS.get(sub);
      if (!p) return { ok: false, error: { tag, code: 'syntax', message: `Unknown UID command ${sub.slice(0, 40)}` } };
      return { ok: true, command: p(c, tag) };
    }
    const p = PARSERS.get(verb);
    if (!p) return { ok: true, command: { tag, name: 'unknown', verb: verb.slice(0, 64) } };
    return { ok: true, command: p(c, tag) };
  } catch (e) {
    if (e instanceof ParseFailure) return { ok: false, error: { tag, code: e.code, message: e.message } };
    // A bug, not the client's fault; still answered with BAD rather than thrown at the server.
    return { ok: false, error: { tag, code: 'syntax', message: 'Internal parser error' } };
  }
}
