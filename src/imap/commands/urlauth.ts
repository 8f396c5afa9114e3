/**
 * GENURLAUTH, RESETKEY and URLFETCH (RFC 4467) with URLFETCH's BINARY and
 * BODYPARTSTRUCTURE forms (RFC 5524). Tokens are HMAC-SHA256 under a random
 * 256-bit key per mailbox, kept in the store and never sent or logged.
 */
import { randomBytes } from 'node:crypto';
import {
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
import { fetchSection } from '../../codec/mime/index.js';
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

/** The RFC 5524 items for one URL, or null when its content cannot be given. */
function extendedItems(named: NamedMessage, params: readonly UrlFetchParam[]): ImapValue[] | null {
  const items: ImapValue[] = [];
  if (params.includes('BODYPARTSTRUCTURE')) {
    const structure = partStructure(named);
    if (!structure) return null;
    items.push({ kind: 'atom', text: 'BODYPARTSTRUCTURE' }, encodeBodyStructure(structure, true));
  }
  if (params.includes('BINARY')) {
    const section = named.url.section;
    let data: Buffer | null;
    try {
      data = section && !section.text ? binaryPart(named.content, section.part) : section ? fetchSection(named.content.mime, { part: section.part, fields: section.fields, text: section.text! }) : named.content.data;
    } catch (err) {
      if (err instanceof UnknownCte) return null;
      throw err;
    }
    if (data === null) return null;
    data = applyPartial(named.url, data);
    items.push({ kind: 'atom', text: 'BINARY' }, data.includes(0) ? literal(data, true) : data);
  } else if (params.includes('BODY')) {
    const data = urlOctets(named);
    if (data === null) return null;
    items.push({ kind: 'atom', text: 'BODY' }, textValue(data));
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
