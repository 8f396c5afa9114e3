/** GENURLAUTH, RESETKEY (RFC 4467) and URLFETCH (RFC 4467, with RFC 5524 parameters). */
import type { ImapCommand, UrlFetchParam } from '../ast.js';
import type { Cursor } from '../cursor.js';
import { fail } from '../errors.js';

/** URLs per command: each is answered on its own, so the response stays bounded. */
export const MAX_URLS = 100;

const FETCH_PARAMS = new Set<string>(['BODYPARTSTRUCTURE', 'BINARY', 'BODY']);

export function parseGenUrlauth(c: Cursor, tag: string): ImapCommand {
  const requests: { url: string; mechanism: string }[] = [];
  while (c.trySp()) {
    if (requests.length >= MAX_URLS) fail('Too many URLs');
    const url = c.astringText('URL');
    c.sp();
    requests.push({ url, mechanism: c.word('mechanism') });
  }
  if (requests.length === 0) fail('Expected URL');
  c.end();
  return { tag, name: 'GENURLAUTH', requests };
}

export function parseResetKey(c: Cursor, tag: string): ImapCommand {
  let mailbox: string | null = null;
  const mechanisms: string[] = [];
  if (c.trySp()) {
    mailbox = c.mailbox();
    while (c.trySp()) {
      if (mechanisms.length >= 16) fail('Too many mechanisms');
      mechanisms.push(c.word('mechanism'));
    }
  }
  c.end();
  return { tag, name: 'RESETKEY', mailbox, mechanisms };
}

function fetchParam(c: Cursor): UrlFetchParam {
  const p = c.word('URLFETCH parameter');
  if (!FETCH_PARAMS.has(p)) fail(`Unknown URLFETCH parameter ${p.slice(0, 40)}`);
  return p as UrlFetchParam;
}

export function parseUrlFetch(c: Cursor, tag: string): ImapCommand {
  const urls: { url: string; params: UrlFetchParam[] | null }[] = [];
  while (c.trySp()) {
    if (urls.length >= MAX_URLS) fail('Too many URLs');
    if (c.tryChar(0x28)) {
      // RFC 5524: "(" url *(SP param) ")"
      const url = c.astringText('URL');
      const params: UrlFetchParam[] = [];
      while (c.trySp()) {
        if (params.length >= FETCH_PARAMS.size) fail('Too many URLFETCH parameters');
        params.push(fetchParam(c));
      }
      c.expect(0x29, '")"');
      urls.push({ url, params });
    } else {
      urls.push({ url: c.astringText('URL'), params: null });
    }
  }
  if (urls.length === 0) fail('Expected URL');
  c.end();
  return { tag, name: 'URLFETCH', urls };
}
