/**
 * IMAP URLs (RFC 5092) naming one message or a part of it, as CATENATE
 * (RFC 4469) takes them: `imap://[user[;AUTH=*]@]host[:port]/mailbox
 * [;UIDVALIDITY=n]/;UID=n[/;SECTION=s][/;PARTIAL=o[.l]]`, or the same from
 * the first "/" on, relative to the server the client is talking to; and
 * URLAUTH-authorized URLs (RFC 4467): `...[;EXPIRE=date-time];URLAUTH=access
 * [:mechanism:token]`. Pure; the input is bounded by MAX_URL_LENGTH.
 */

export const MAX_URL_LENGTH = 2048;

export interface ImapUrlSection {
  /** Part number path, empty for the whole message. */
  readonly part: readonly number[];
  readonly text: 'HEADER' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT' | 'TEXT' | 'MIME' | null;
  readonly fields: readonly string[];
}

/** Who may fetch a URLAUTH URL (RFC 4467 section 3). */
export type UrlAccess = { readonly kind: 'anonymous' | 'authuser' } | { readonly kind: 'user' | 'submit'; readonly name: string };

export interface ImapUrlAuth {
  /** The URL up to and including the access identifier: the text the token signs (RFC 4467 "rump"). */
  readonly rump: string;
  /** Milliseconds since the epoch after which the URL is void, or null. */
  readonly expire: number | null;
  readonly access: UrlAccess;
  /** Upper-cased mechanism and the lower-cased hex token; both null for a rump (as GENURLAUTH takes it). */
  readonly mechanism: string | null;
  readonly token: string | null;
}

export interface ImapMessageUrl {
  /** Null for a relative URL ("/mailbox/;UID=n"), which names this server and user. */
  readonly server: { readonly user: string | null; readonly host: string; readonly port: number | null } | null;
  readonly mailbox: string;
  readonly uidValidity: number | null;
  readonly uid: number;
  readonly section: ImapUrlSection | null;
  readonly partial: { readonly offset: number; readonly length: number | null } | null;
  /** Present when the URL carries ";URLAUTH=" (which requires a server and user). */
  readonly urlauth: ImapUrlAuth | null;
}

export type ImapUrlResult = { readonly ok: true; readonly url: ImapMessageUrl } | { readonly ok: false; readonly reason: string };

const bad = (reason: string): ImapUrlResult => ({ ok: false, reason });

/** Percent-decoding to UTF-8; null for a broken escape or invalid UTF-8. */
function pctDecode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

function nzNumber(s: string): number | null {
  if (!/^[1-9][0-9]{0,9}$/.test(s)) return null;
  const n = Number(s);
  return n <= 0xffffffff ? n : null;
}

function number(s: string): number | null {
  if (!/^[0-9]{1,10}$/.test(s)) return null;
  const n = Number(s);
  return n <= 0xffffffff ? n : null;
}

/** Controls, space, DEL, quote and backslash: never in a URL as sent (RFC 3986 would escape them). */
function hasForbidden(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || c === 0x22 || c === 0x5c || (c >= 0x80 && c <= 0x9f) || c === 0xa0) return true;
  }
  return false;
}

const SECTION_TEXT = new Set(['HEADER', 'TEXT', 'MIME']);

/** A section as in BODY[...]: "1.2", "HEADER", "1.MIME", "HEADER.FIELDS (FROM TO)". */
export function parseUrlSection(raw: string): ImapUrlSection | null {
  let rest = raw;
  let fields: string[] = [];
  const open = rest.indexOf(' (');
  if (open >= 0) {
    if (!rest.endsWith(')')) return null;
    fields = rest.slice(open + 2, -1).split(' ').filter((f) => f.length > 0);
    if (fields.length === 0 || fields.some((f) => !/^[!-9;-~]+$/.test(f))) return null;
    rest = rest.slice(0, open);
  }
  const words = rest.split('.');
  const part: number[] = [];
  while (words.length > 0 && /^[0-9]+$/.test(words[0]!)) {
    const n = nzNumber(words.shift()!);
    if (n === null) return null;
    part.push(n);
  }
  const text = words.join('.').toUpperCase();
  if (text === '') return fields.length === 0 && part.length > 0 ? { part, text: null, fields } : null;
  if (text === 'HEADER.FIELDS' || text === 'HEADER.FIELDS.NOT') return fields.length > 0 ? { part, text, fields } : null;
  if (fields.length > 0 || !SECTION_TEXT.has(text) || (text === 'MIME' && part.length === 0)) return null;
  return { part, text: text as 'HEADER' | 'TEXT' | 'MIME', fields };
}

function parseServer(authority: string): ImapMessageUrl['server'] | null {
  const at = authority.lastIndexOf('@');
  let user: string | null = null;
  if (at >= 0) {
    let info = authority.slice(0, at);
    const auth = info.toUpperCase().indexOf(';AUTH=');
    if (auth >= 0) info = info.slice(0, auth);
    user = info === '' ? null : pctDecode(info);
    if (info !== '' && user === null) return null;
  }
  const hostPort = authority.slice(at + 1);
  const m = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::([0-9]{1,5}))?$/.exec(hostPort);
  if (!m) return null;
  const port = m[2] === undefined ? null : Number(m[2]);
  if (port !== null && (port < 1 || port > 65535)) return null;
  return { user, host: m[1]!.toLowerCase(), port };
}

/** RFC 3339 date-time, as ";EXPIRE=" takes it; milliseconds, or null when malformed. */
export function parseDateTime(s: string): number | null {
  const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$/i.exec(s);
  if (!m) return null;
  const [, y, mo, d, h, mi, sec, , zone] = m;
  if (Number(mo) < 1 || Number(mo) > 12 || Number(d) < 1 || Number(d) > 31 || Number(h) > 23 || Number(mi) > 59 || Number(sec) > 60) return null;
  const ms = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${sec === '60' ? '59' : sec}${zone!.toUpperCase()}`);
  return Number.isNaN(ms) ? null : ms;
}

function parseAccess(s: string): UrlAccess | null {
  const low = s.toLowerCase();
  if (low === 'anonymous' || low === 'authuser') return { kind: low };
  const m = /^(user|submit)\+(.+)$/i.exec(s);
  if (!m) return null;
  const name = pctDecode(m[2]!);
  return name === null || name.length === 0 ? null : { kind: m[1]!.toLowerCase() as 'user' | 'submit', name };
}

/** Splits ";URLAUTH=access[:mech:token]" (and ";EXPIRE=") off the end of a URL. */
function splitUrlauth(text: string, at: number): { body: string; auth: ImapUrlAuth } | string {
  const tail = text.slice(at + ';urlauth='.length);
  if (hasForbidden(tail)) return 'invalid character in URL';
  const [accessText, mech, token, extra] = tail.split(':');
  const access = parseAccess(accessText!);
  if (!access) return 'invalid URLAUTH access identifier';
  if (extra !== undefined || (mech !== undefined && token === undefined)) return 'invalid URLAUTH';
  if (mech !== undefined && !/^[A-Za-z0-9.-]{1,64}$/.test(mech)) return 'invalid URLAUTH mechanism';
  if (token !== undefined && !/^(?:[0-9A-Fa-f]{2}){16,128}$/.test(token)) return 'invalid URLAUTH token';
  let body = text.slice(0, at);
  let expire: number | null = null;
  const e = body.toLowerCase().lastIndexOf(';expire=');
  if (e >= 0) {
    expire = parseDateTime(body.slice(e + ';expire='.length));
    if (expire === null) return 'invalid EXPIRE in URL';
    body = body.slice(0, e);
  }
  const rump = text.slice(0, at + ';urlauth='.length + accessText!.length);
  return { body, auth: { rump, expire, access, mechanism: mech?.toUpperCase() ?? null, token: token?.toLowerCase() ?? null } };
}

/** Parses an IMAP URL naming a message (RFC 5092 imessagepart), absolute or from its first "/". */
export function parseImapUrl(input: string): ImapUrlResult {
  if (input.length > MAX_URL_LENGTH) return bad('URL too long');
  let text = input;
  let urlauth: ImapUrlAuth | null = null;
  const ua = input.toLowerCase().lastIndexOf(';urlauth=');
  if (ua >= 0) {
    const split = splitUrlauth(input, ua);
    if (typeof split === 'string') return bad(split);
    text = split.body;
    urlauth = split.auth;
  }
  let server: ImapMessageUrl['server'] = null;
  let path = text;
  if (/^imap:\/\//i.test(text)) {
    const slash = text.indexOf('/', 7);
    if (slash < 0) return bad('URL names no message');
    server = parseServer(text.slice(7, slash));
    if (!server) return bad('invalid server in URL');
    path = text.slice(slash);
  }
  if (!path.startsWith('/')) return bad('not an IMAP URL');
  if (hasForbidden(path)) return bad('invalid character in URL');
  const lower = path.toLowerCase();
  if (lower.includes(';urlauth=') || lower.includes(';expire=')) return bad('misplaced URLAUTH or EXPIRE in URL');
  if (urlauth && !server?.user) return bad('URLAUTH URL must name its server and user');
  const uidAt = lower.indexOf('/;uid=');
  if (uidAt < 0) return bad('URL names no UID');
  let mailboxRef = path.slice(1, uidAt);
  let uidValidity: number | null = null;
  const v = mailboxRef.toLowerCase().lastIndexOf(';uidvalidity=');
  if (v >= 0) {
    uidValidity = nzNumber(mailboxRef.slice(v + ';uidvalidity='.length));
    if (uidValidity === null) return bad('invalid UIDVALIDITY in URL');
    mailboxRef = mailboxRef.slice(0, v);
  }
  const mailbox = mailboxRef === '' ? null : pctDecode(mailboxRef);
  if (mailbox === null || mailbox.includes(';')) return bad('invalid mailbox in URL');
  const [uidText, ...rest] = path.slice(uidAt + '/;uid='.length).split('/');
  const uid = nzNumber(uidText!);
  if (uid === null) return bad('invalid UID in URL');
  let section: ImapUrlSection | null = null;
  let partial: ImapMessageUrl['partial'] = null;
  for (const piece of rest) {
    const low = piece.toLowerCase();
    if (low.startsWith(';section=') && section === null && partial === null) {
      const raw = pctDecode(piece.slice(';section='.length));
      section = raw === null ? null : parseUrlSection(raw);
      if (!section) return bad('invalid SECTION in URL');
    } else if (low.startsWith(';partial=') && partial === null) {
      const [o, l, extra] = piece.slice(';partial='.length).split('.');
      const offset = number(o!);
      const length = l === undefined ? null : nzNumber(l);
      if (offset === null || (l !== undefined && length === null) || extra !== undefined) return bad('invalid PARTIAL in URL');
      partial = { offset, length };
    } else {
      return bad('unexpected part in URL');
    }
  }
  return { ok: true, url: { server, mailbox, uidValidity, uid, section, partial, urlauth } };
}
