/**
 * GENURLAUTH, RESETKEY and URLFETCH (RFC 4467) with URLFETCH's BINARY and
 * BODYPARTSTRUCTURE forms (RFC 5524). Tokens are HMAC-SHA256 under a random
 * 256-bit key per mailbox, kept in the store and never sent or logged.
 */
import { randomBytes } from 'node:crypto';
import {
  atom,
  bad,
  encodeBodyStructure,
  genUrlauthResponse,
  literal,
  no,
  ok,
  parseImapUrl,
  urlFetchResponse,
  type BodyStructureData,
  type ImapValue,
  type UrlFetchParam,
} from '../../codec/imap/index.js';
import { fetchSection, findPart, parseMessage } from '../../codec/mime/index.js';
import { binaryBody } from '../binary-convert.js';
import { findFolder } from '../names.js';
import type { ImapSession } from '../session.js';
import { structureOf } from '../structure.js';
import { applyPartial, resolveUrl, URLAUTH_MECHANISM, urlauthToken, urlFolder, urlOctets, urlOwner, type NamedMessage } from '../url-access.js';
import { binaryPart, textValue, UnknownCte } from './fetch-items.js';
import type { Cmd } from './types.js';

const KEY_BYTES = 32;

const badUrl = (tag: string, url: string, text: string): Buffer => no(tag, text, { code: 'BADURL', url: url.slice(0, 200) });

export async function genUrlauth(s: ImapSession, cmd: Cmd<'GENURLAUTH'>): Promise<Buffer> {
  const keys = s.deps.urlauthKeys;
  if (!keys) return no(cmd.tag, 'URLAUTH is not available', 'UNAVAILABLE');
  // Every URL is checked before any key is made: one bad URL fails the whole command (RFC 4467 6.1).
  const checked: { rump: string; accountId: number; folderId: number }[] = [];
  for (const { url: text, mechanism } of cmd.requests) {
    if (mechanism !== URLAUTH_MECHANISM) return bad(cmd.tag, 'Unknown URLAUTH mechanism');
    const parsed = parseImapUrl(text);
    if (!parsed.ok) return badUrl(cmd.tag, text, `Invalid URL: ${parsed.reason}`);
    const url = parsed.url;
    if (!url.urlauth || url.urlauth.token !== null) return badUrl(cmd.tag, text, 'URL must end in ;URLAUTH=access and carry no token');
    const owner = await urlOwner(s, url.server!);
    if (!owner || owner.id !== s.account!.id) return badUrl(cmd.tag, text, 'URL does not name one of your mailboxes on this server');
    const folder = await urlFolder(s, owner, url);
    if (!folder) return badUrl(cmd.tag, text, 'No such mailbox');
    checked.push({ rump: url.urlauth.rump, accountId: owner.id, folderId: folder.id });
  }
  const out: string[] = [];
  for (const c of checked) {
    const key = await keys.keyFor(c.accountId, c.folderId, randomBytes(KEY_BYTES));
    out.push(`${c.rump}:internal:${urlauthToken(key, c.rump)}`);
  }
  s.send(genUrlauthResponse(out, s.encode));
  return ok(cmd.tag, 'GENURLAUTH completed');
}

export async function resetKey(s: ImapSession, cmd: Cmd<'RESETKEY'>): Promise<Buffer> {
  const keys = s.deps.urlauthKeys;
  if (!keys) return no(cmd.tag, 'URLAUTH is not available', 'UNAVAILABLE');
  if (cmd.mechanisms.some((m) => m !== URLAUTH_MECHANISM)) return bad(cmd.tag, 'Unknown URLAUTH mechanism');
  if (cmd.mailbox === null) {
    await keys.reset(s.account!.id, null);
    return ok(cmd.tag, 'All mailbox access keys reset');
  }
  const folder = await findFolder(s, cmd.mailbox);
  if (!folder) return no(cmd.tag, 'No such mailbox', 'NONEXISTENT');
  await keys.reset(s.account!.id, folder.id);
  return ok(cmd.tag, 'Mailbox access key reset');
}

/** The body structure of the part a URL's section names (whole message without one); null for a text section. */
function partStructure(named: NamedMessage): BodyStructureData | null {
  const section = named.url.section;
  let cur: BodyStructureData | undefined = structureOf(named.content.mime).body;
  if (section?.text) return null;
  for (const [i, n] of (section?.part ?? []).entries()) {
    // Inside an encapsulated message, part numbers count that message's parts (RFC 9051 6.4.5).
    if (i > 0 && cur.kind === 'message') cur = cur.body;
    if (cur.kind === 'multipart') cur = cur.parts[n - 1];
    else if (n !== 1) cur = undefined;
    if (!cur) return null;
  }
  return cur;
}

/** The converted structure, labelled with the stored encodings as the reference implementation shows them. */
function keepEncodings(conv: BodyStructureData, orig: BodyStructureData): BodyStructureData {
  if (conv.kind === 'multipart' || orig.kind === 'multipart') {
    if (conv.kind !== 'multipart' || orig.kind !== 'multipart' || conv.parts.length !== orig.parts.length) return conv;
    return { ...conv, parts: conv.parts.map((c, i) => keepEncodings(c, orig.parts[i]!)) };
  }
  if (conv.kind === 'message' && orig.kind === 'message') return { ...conv, encoding: orig.encoding, body: keepEncodings(conv.body, orig.body) };
  return { ...conv, encoding: orig.encoding };
}

const lineCount = (data: Buffer): number => {
  let n = 0;
  for (let i = data.indexOf(10); i >= 0; i = data.indexOf(10, i + 1)) n++;
  return n;
};

/** The structure of what BINARY serves: sizes and lines of the decoded data. */
function binaryStructure(stored: BodyStructureData, data: Buffer): BodyStructureData {
  if (stored.kind === 'multipart') return stored;
  if (stored.kind === 'message') {
    const inner = structureOf(parseMessage(data)).body;
    return { ...stored, size: data.length, lines: lineCount(data), body: keepEncodings(inner, stored.body) };
  }
  if (stored.kind === 'text') return { ...stored, size: data.length, lines: lineCount(data) };
  return { ...stored, size: data.length };
}

/** BINARY data: a leaf decoded, a message/rfc822 or multipart part with its leaves decoded; null for unknown encodings. */
function binaryData(named: NamedMessage): Buffer | null {
  const { content, url } = named;
  const section = url.section;
  let data: Buffer | null;
  if (!section) data = content.data;
  else if (section.text) data = fetchSection(content.mime, { part: section.part, fields: section.fields, text: section.text });
  else {
    const part = findPart(content.mime, section.part);
    if (part && (part.message || part.children.length > 0)) data = binaryBody(content.mime, part);
    else {
      try {
        data = binaryPart(content, section.part);
      } catch (err) {
        if (err instanceof UnknownCte) return null;
        throw err;
      }
    }
  }
  return data === null ? null : applyPartial(url, data);
}

/** The RFC 5524 items for one URL, or null when its content cannot be given. */
function extendedItems(named: NamedMessage, params: readonly UrlFetchParam[]): ImapValue[] | null {
  const items: ImapValue[] = [];
  const binary = params.includes('BINARY') ? binaryData(named) : null;
  if (params.includes('BINARY') && binary === null) return null;
  if (params.includes('BODYPARTSTRUCTURE')) {
    const stored = partStructure(named);
    if (!stored) return null;
    const structure = binary !== null && !named.url.partial ? binaryStructure(stored, binary) : stored;
    items.push(atom('BODYPARTSTRUCTURE'), encodeBodyStructure(structure, true));
  }
  if (binary !== null) {
    items.push(atom('BINARY'), binary.includes(0) ? literal(binary, true) : binary);
  } else if (params.includes('BODY')) {
    const data = urlOctets(named);
    if (data === null) return null;
    items.push(atom('BODY'), textValue(data));
  }
  return items;
}

export async function urlFetch(s: ImapSession, cmd: Cmd<'URLFETCH'>): Promise<Buffer> {
  if (!s.deps.urlauthKeys) return no(cmd.tag, 'URLAUTH is not available', 'UNAVAILABLE');
  for (const { url, params } of cmd.urls) {
    // A URL that names nothing this user may read is answered NIL; the command still succeeds (RFC 4467 6.3).
    const parsed = parseImapUrl(url);
    const named = parsed.ok && parsed.url.urlauth ? await resolveUrl(s, url) : null;
    let data: Buffer | null | ImapValue[] = null;
    if (named) {
      if (params === null) {
        const octets = urlOctets(named);
        data = octets === null ? null : textValue(octets);
      } else {
        data = extendedItems(named, params);
      }
    }
    s.send(urlFetchResponse(url, data, s.encode));
  }
  return ok(cmd.tag, 'URLFETCH completed');
}
