/**
 * CATENATE (RFC 4469): an APPENDed message joined from literal text and IMAP
 * URLs (RFC 5092) naming messages or parts in the user's own mailboxes on
 * this server. A URL that does not resolve is refused with [BADURL url]; a
 * result over the literal limit with [TOOBIG]. URLAUTH is not supported.
 */
import { no, parseImapUrl, type AppendMessage, type CatenatePart, type ImapMessageUrl } from '../../codec/imap/index.js';
import { fetchSection } from '../../codec/mime/index.js';
import { loadContent } from '../content.js';
import { findFolder } from '../names.js';
import type { ImapSession } from '../session.js';

export type Resolved = { readonly ok: true; readonly message: AppendMessage } | { readonly ok: false; readonly response: Buffer };

/** The URL as it may appear in a response code: one line, no "]" (RFC 4469 url-resp-text). */
function respText(url: string): string {
  return url.replace(/[\]\r\n\0]/g, '').slice(0, 200);
}

/** A URL names this server when it is relative, or its user is the logged-in account and its host this server's name. */
function sameServer(s: ImapSession, url: ImapMessageUrl): boolean {
  if (!url.server) return true;
  const user = url.server.user;
  if (user !== null && user.toLowerCase() !== s.account!.address.toLowerCase()) return false;
  return url.server.host === s.deps.hostname.toLowerCase() || url.server.host === 'localhost';
}

/** The octets a URL names, or null when it names nothing this user can read. */
async function urlContent(s: ImapSession, text: string): Promise<Buffer | null> {
  const parsed = parseImapUrl(text);
  if (!parsed.ok || !sameServer(s, parsed.url)) return null;
  const url = parsed.url;
  const folder = await findFolder(s, url.mailbox);
  if (!folder || (url.uidValidity !== null && url.uidValidity !== folder.uidValidity)) return null;
  const [message] = await s.deps.mailboxes.getMessages(folder.id, [url.uid]);
  if (!message) return null;
  const loaded = await loadContent(s, message.uid, message.blobId);
  if (!loaded.ok) return null;
  const content = loaded.content;
  let data: Buffer | null = content.data;
  if (url.section) {
    const spec = { part: url.section.part, fields: url.section.fields, ...(url.section.text ? { text: url.section.text } : {}) };
    data = fetchSection(content.mime, spec);
  }
  if (data === null) return null;
  if (url.partial) {
    const start = Math.min(url.partial.offset, data.length);
    data = data.subarray(start, url.partial.length === null ? data.length : Math.min(start + url.partial.length, data.length));
  }
  return data;
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
      if (got === null) return { ok: false, response: no(tag, 'URL does not name a message of yours on this server', { code: 'BADURL', url: respText(part.url) }) };
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
