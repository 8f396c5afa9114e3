/**
 * What an IMAP URL (RFC 5092) names, and who may read it: a URL without
 * URLAUTH reaches the logged-in user's own mailboxes (CATENATE); a URL with
 * URLAUTH (RFC 4467) reaches its owner's mailbox when its token is the
 * HMAC-SHA256 of its rump under that mailbox's access key, it has not
 * expired, and its access identifier admits the logged-in user.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { parseImapUrl, type ImapMessageUrl, type UrlAccess } from '../codec/imap/index.js';
import { fetchSection } from '../codec/mime/index.js';
import type { Account, Folder } from '../store/types.js';
import { loadContent, type MessageContent } from './content.js';
import { canonicalName } from './names.js';
import type { ImapSession } from './session.js';

/** The only URLAUTH mechanism: a server-side key per mailbox (RFC 4467 section 7). */
export const URLAUTH_MECHANISM = 'INTERNAL';

/** The hex token for a rump under a mailbox access key. */
export function urlauthToken(key: Buffer, rump: string): string {
  return createHmac('sha256', key).update(rump, 'utf8').digest('hex');
}

/**
 * The account a URL's server part names: "user@domain", or a bare user name
 * taken at the URL's host. The host must be this server or the account's domain.
 */
export async function urlOwner(s: ImapSession, server: NonNullable<ImapMessageUrl['server']>): Promise<Account | null> {
  if (server.user === null) return null;
  const address = (server.user.includes('@') ? server.user : `${server.user}@${server.host}`).toLowerCase();
  const account = await s.deps.directory.repo.getAccount(address);
  if (!account || account.disabled) return null;
  const host = server.host;
  const ours = host === s.deps.hostname.toLowerCase() || host === 'localhost' || host === address.slice(address.lastIndexOf('@') + 1);
  return ours ? account : null;
}

/** The URL's folder of `owner`, checked against its UIDVALIDITY. */
export async function urlFolder(s: ImapSession, owner: Account, url: ImapMessageUrl): Promise<Folder | null> {
  const folder = await s.deps.mailboxes.getFolder(owner.id, canonicalName(url.mailbox));
  if (!folder || (url.uidValidity !== null && url.uidValidity !== folder.uidValidity)) return null;
  return folder;
}

function admits(s: ImapSession, access: UrlAccess): boolean {
  if (!('name' in access)) return true; // anonymous, authuser: any logged-in user
  // submit+ names the submission server acting for a user; postern's IMAP has no such identity.
  if (access.kind === 'submit') return false;
  return access.name.toLowerCase() === s.account!.address.toLowerCase();
}

function tokenMatches(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'hex');
  const b = Buffer.from(given, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface NamedMessage {
  readonly url: ImapMessageUrl;
  readonly content: MessageContent;
}

/** The message a URL names and this user may read, or null (no reason given: a URL must not tell what exists). */
export async function resolveUrl(s: ImapSession, text: string): Promise<NamedMessage | null> {
  const parsed = parseImapUrl(text);
  if (!parsed.ok) return null;
  const url = parsed.url;
  let owner: Account | null;
  if (url.urlauth) {
    const auth = url.urlauth;
    if (auth.mechanism !== URLAUTH_MECHANISM || auth.token === null) return null;
    if (auth.expire !== null && s.deps.clock.now() >= auth.expire) return null;
    if (!admits(s, auth.access)) return null;
    owner = await urlOwner(s, url.server!);
  } else {
    owner = sameAccount(s, url) ? s.account! : null;
  }
  if (!owner) return null;
  const folder = await urlFolder(s, owner, url);
  if (!folder) return null;
  if (url.urlauth) {
    const key = s.deps.urlauthKeys ? await s.deps.urlauthKeys.get(owner.id, folder.id) : null;
    if (!key || !tokenMatches(urlauthToken(key, url.urlauth.rump), url.urlauth.token!)) return null;
  }
  const [message] = await s.deps.mailboxes.getMessages(folder.id, [url.uid]);
  if (!message) return null;
  const loaded = await loadContent(s, message.uid, message.blobId);
  return loaded.ok ? { url, content: loaded.content } : null;
}

/** Without URLAUTH a URL names this server and user: relative, or with the logged-in account and this host. */
function sameAccount(s: ImapSession, url: ImapMessageUrl): boolean {
  if (!url.server) return true;
  const user = url.server.user;
  if (user !== null && user.toLowerCase() !== s.account!.address.toLowerCase()) return false;
  return url.server.host === s.deps.hostname.toLowerCase() || url.server.host === 'localhost';
}

/** PARTIAL applied to octets. */
export function applyPartial(url: ImapMessageUrl, data: Buffer): Buffer {
  if (!url.partial) return data;
  const start = Math.min(url.partial.offset, data.length);
  return data.subarray(start, url.partial.length === null ? data.length : Math.min(start + url.partial.length, data.length));
}

/** The octets a URL's SECTION and PARTIAL name, as stored; null when the section does not exist. */
export function urlOctets(named: NamedMessage): Buffer | null {
  const { url, content } = named;
  let data: Buffer | null = content.data;
  if (url.section) {
    const spec = { part: url.section.part, fields: url.section.fields, ...(url.section.text ? { text: url.section.text } : {}) };
    data = fetchSection(content.mime, spec);
  }
  return data === null ? null : applyPartial(url, data);
}
