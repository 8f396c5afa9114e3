/**
 * CATENATE (RFC 4469): an APPENDed message joined from literal text and IMAP
 * URLs (RFC 5092) naming messages or parts in the user's own mailboxes on
 * this server, or URLAUTH-authorized URLs (RFC 4467) to any mailbox they
 * admit this user to. A URL that does not resolve is refused with [BADURL
 * url]; a result over the literal limit with [TOOBIG].
 */
import { no, type AppendMessage, type CatenatePart } from '../../codec/imap/index.js';
import type { ImapSession } from '../session.js';
import { resolveUrl, urlOctets } from '../url-access.js';

export type Resolved = { readonly ok: true; readonly message: AppendMessage } | { readonly ok: false; readonly response: Buffer };

/** The URL as it may appear in a response code: one line, no "]" (RFC 4469 url-resp-text). */
function respText(url: string): string {
  return url.replace(/[\]\r\n\0]/g, '').slice(0, 200);
}

/** The octets a URL names, or null when it names nothing this user can read. */
async function urlContent(s: ImapSession, text: string): Promise<Buffer | null> {
  const named = await resolveUrl(s, text);
  return named ? urlOctets(named) : null;
}

/** Joins the parts of a CATENATE message; `limit` bounds the result as it grows. */
export async function resolveCatenate(s: ImapSession, tag: string, m: AppendMessage, limit: number): Promise<Resolved> {
  const parts: readonly CatenatePart[] = m.catenate ?? [];
  const pieces: Buffer[] = [];
  let size = 0;
  let binary = false;
  for (const part of parts) {
    let piece: Buffer;
    if (part.type === 'TEXT') {
      piece = part.data;
      binary ||= part.binary;
    } else {
      const got = await urlContent(s, part.url);
      if (got === null) return { ok: false, response: no(tag, 'URL does not name a message you may read on this server', { code: 'BADURL', url: respText(part.url) }) };
      piece = got;
      // Stored content may hold NUL in a body: it was accepted as binary and stays so.
      binary ||= got.includes(0);
    }
    size += piece.length;
    if (size > limit) return { ok: false, response: no(tag, `Message larger than ${limit} octets`, 'TOOBIG') };
    pieces.push(piece);
  }
  return { ok: true, message: { flags: m.flags, date: m.date, data: Buffer.concat(pieces, size), binary } };
}
