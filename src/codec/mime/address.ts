/**
 * RFC 5322 address lists (section 3.4) with the obsolete forms of section 4.4:
 * routes in angle addresses, comments as display names, words without quotes.
 * Parsing is lenient and linear; malformed pieces are skipped, never thrown.
 */
import { decodeEncodedWords } from './encoded-word.js';

type Token =
  | { kind: 'word'; text: string; quoted: boolean; ws: boolean }
  | { kind: 'special'; text: string; ws: boolean }
  | { kind: 'comment'; text: string; ws: boolean };

/** One mailbox, with the raw (not RFC 2047 decoded) display name. */
export interface MailboxNode {
  readonly kind: 'mailbox';
  /** Display name words joined as written, quotes removed; '' when none. */
  readonly phrase: string;
  /** The last comment inside the mailbox, used as a name when there is no phrase. */
  readonly comment: string | null;
  /** Obsolete source route, e.g. "@a.example,@b.example"; null when none. */
  readonly route: string | null;
  /** Local part without quotes or escapes. */
  readonly local: string;
  readonly domain: string;
}

export interface GroupNode {
  readonly kind: 'group';
  readonly phrase: string;
  readonly members: MailboxNode[];
}

export type AddressNode = MailboxNode | GroupNode;

/** A parsed address: `group` is set (possibly empty) for an RFC 5322 group. */
export interface MailAddress {
  /** Display name, RFC 2047 words decoded; '' when none. */
  readonly name: string;
  /** `local@domain`, the local part quoted when it needs to be; '' for a group. */
  readonly address: string;
  readonly group?: MailAddress[];
}

const SPECIALS = '<>@,;:.[]';
const MAX_TOKENS = 100_000;

/** ASCII characters that end an unquoted word: white space, `"`, `(`, `)`, the specials and `\\`. */
const WORD_ENDS = new Uint8Array(128);
for (const ch of ' \t\n\v\f\r"()<>@,;:.[]\\') WORD_ENDS[ch.charCodeAt(0)] = 1;

/**
 * Whether a UTF-16 code unit ends an unquoted word: what `/[\s"()<>@,;:.[\]\\]/`
 * matches (beyond ASCII, JavaScript's white space), without a regular
 * expression per character.
 */
export function endsWord(c: number): boolean {
  if (c < 128) return WORD_ENDS[c] === 1;
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

function tokenize(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let ws = false;
  while (i < s.length && out.length < MAX_TOKENS) {
    const c = s[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      ws = true;
      i++;
    } else if (c === '"') {
      let text = '';
      for (i++; i < s.length && s[i] !== '"'; i++) text += s[i] === '\\' && i + 1 < s.length ? s[++i] : s[i];
      i++;
      out.push({ kind: 'word', text, quoted: true, ws });
      ws = false;
    } else if (c === '(') {
      let depth = 0;
      let text = '';
      for (; i < s.length; i++) {
        const d = s[i]!;
        if (d === '\\' && i + 1 < s.length) text += s[++i];
        else if (d === '(' && depth++ === 0) continue;
        else if (d === ')' && --depth === 0) break;
        else text += d;
      }
      i++;
      out.push({ kind: 'comment', text, ws });
      ws = true;
    } else if (c === '[') {
      const j = s.indexOf(']', i);
      const end = j < 0 ? s.length : j + 1;
      out.push({ kind: 'word', text: s.slice(i, end), quoted: false, ws });
      ws = false;
      i = end;
    } else if (SPECIALS.includes(c) || c === ')' || c === '\\') {
      out.push({ kind: 'special', text: c, ws });
      ws = false;
      i++;
    } else {
      let j = i + 1;
      while (j < s.length && !endsWord(s.charCodeAt(j))) j++;
      out.push({ kind: 'word', text: s.slice(i, j), quoted: false, ws });
      ws = false;
      i = j;
    }
  }
  return out;
}

class Parser {
  pos = 0;
  constructor(readonly toks: Token[]) {}

  peek(): Token | undefined {
    return this.toks[this.pos];
  }
  isSpecial(text: string): boolean {
    const t = this.peek();
    return t?.kind === 'special' && t.text === text;
  }

  /** Words, dots and comments up to one of `stops`; returns joined text and the last comment. */
  words(stops: string): { text: string; comment: string | null; count: number } {
    let text = '';
    let comment: string | null = null;
    let count = 0;
    for (let t = this.peek(); t; t = this.peek()) {
      if (t.kind === 'special' && stops.includes(t.text)) break;
      this.pos++;
      if (t.kind === 'comment') {
        comment = t.text.trim();
        continue;
      }
      if (t.kind === 'special' && t.text !== '.') continue; // stray specials are dropped
      text += (text && t.ws ? ' ' : '') + t.text;
      count++;
    }
    return { text, comment, count };
  }

  /** Tokens up to a stop, joined without spaces (local parts and domains). */
  tight(stops: string): string {
    let text = '';
    for (let t = this.peek(); t; t = this.peek()) {
      if (t.kind === 'special' && stops.includes(t.text)) break;
      this.pos++;
      if (t.kind !== 'comment') text += t.text;
    }
    return text;
  }

  mailbox(stops: string): MailboxNode | null {
    const start = this.pos;
    const lead = this.words(`<@:${stops}`);
    if (this.isSpecial('<')) {
      this.pos++;
      let route: string | null = null;
      if (this.isSpecial('@')) {
        const r = this.tight(':>;'); // a route's own commas are not list separators
        if (this.isSpecial(':')) {
          route = r;
          this.pos++;
        }
      }
      const local = this.tight(`@>${stops}`);
      let domain = '';
      if (this.isSpecial('@')) {
        this.pos++;
        domain = this.tight(`>${stops}`);
      }
      if (this.isSpecial('>')) this.pos++;
      const trail = this.words(stops);
      return { kind: 'mailbox', phrase: lead.text, comment: trail.comment ?? lead.comment, route, local, domain };
    }
    if (this.isSpecial('@')) {
      // addr-spec: the words read so far were the local part.
      this.pos = start;
      const local = this.tight(`@${stops}`);
      this.pos++;
      const domain = this.tight(`<>${stops}`);
      return { kind: 'mailbox', phrase: '', comment: lastComment(this.toks, start, this.pos), route: null, local, domain };
    }
    if (lead.count === 0) return null;
    return { kind: 'mailbox', phrase: '', comment: lead.comment, route: null, local: lead.text.replace(/ /g, ''), domain: '' };
  }

  list(): AddressNode[] {
    const out: AddressNode[] = [];
    while (this.pos < this.toks.length) {
      const before = this.pos;
      if (this.isSpecial(',') || this.isSpecial(';') || this.isSpecial('>')) {
        this.pos++;
        continue;
      }
      const lead = this.words('<@:,;');
      if (this.isSpecial(':')) {
        this.pos++;
        const members: MailboxNode[] = [];
        while (this.pos < this.toks.length && !this.isSpecial(';')) {
          if (this.isSpecial(',') || this.isSpecial(':')) {
            this.pos++;
            continue;
          }
          const at = this.pos;
          const m = this.mailbox(',;');
          if (m) members.push(m);
          if (this.pos === at) this.pos++;
        }
        if (this.isSpecial(';')) this.pos++;
        out.push({ kind: 'group', phrase: lead.text, members });
        continue;
      }
      this.pos = before;
      const m = this.mailbox(',;');
      if (m) out.push(m);
      if (this.pos === before) this.pos++;
    }
    return out;
  }
}

function lastComment(toks: Token[], from: number, to: number): string | null {
  for (let i = to - 1; i >= from; i--) {
    const t = toks[i];
    if (t?.kind === 'comment') return t.text.trim();
  }
  return null;
}

/** Parses an address-list header value into raw nodes (for IMAP ENVELOPE). */
export function parseAddressNodes(value: string): AddressNode[] {
  return new Parser(tokenize(value)).list();
}

const DOT_ATOM = /^[^\s"(),.:;<>@[\\\]]+(\.[^\s"(),.:;<>@[\\\]]+)*$/;

/** `local@domain`, quoting the local part when it is not a dot-atom. */
export function formatAddress(local: string, domain: string): string {
  const l = local === '' || DOT_ATOM.test(local) ? local : `"${local.replace(/(["\\])/g, '\\$1')}"`;
  return domain ? `${l}@${domain}` : l;
}

function toMail(m: MailboxNode): MailAddress {
  const name = m.phrase || m.comment || '';
  return { name: decodeEncodedWords(name), address: formatAddress(m.local, m.domain) };
}

/** Parses an address-list header value; display names come back decoded. */
export function parseAddressList(value: string): MailAddress[] {
  return parseAddressNodes(value).map((n) =>
    n.kind === 'group' ? { name: decodeEncodedWords(n.phrase), address: '', group: n.members.map(toMail) } : toMail(n),
  );
}
