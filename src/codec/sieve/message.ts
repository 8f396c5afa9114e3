import { parseHeaderSection, parseMessage, listParts, decodePartText, decodeEncodedWords, parseAddressList } from '../mime/index.js';
import type { HeaderField, MimeMessage } from '../mime/index.js';

/** Most body bytes the body test looks at (decoded text or raw), in total. */
export const MAX_BODY_SCAN = 1024 * 1024;

/**
 * The message as Sieve tests see it: header values unfolded with RFC 2047
 * words decoded, addresses parsed, bodies decoded on first use and cut at
 * MAX_BODY_SCAN bytes.
 */
export class SieveMessage {
  private readonly fields: HeaderField[];
  private mime: MimeMessage | null = null;
  readonly size: number;

  constructor(readonly raw: Buffer) {
    this.fields = parseHeaderSection(raw).fields;
    this.size = raw.length;
  }

  /** Every value of the named field, in order (decoded). */
  header(name: string): string[] {
    const lower = name.toLowerCase();
    return this.fields.filter((f) => f.name.toLowerCase() === lower).map((f) => decodeEncodedWords(f.value));
  }

  /** The undecoded values of a field (for Date: and addresses). */
  rawHeader(name: string): string[] {
    const lower = name.toLowerCase();
    return this.fields.filter((f) => f.name.toLowerCase() === lower).map((f) => f.value);
  }

  /** The addresses (`local@domain`) in the named fields. */
  addresses(name: string): string[] {
    const out: string[] = [];
    for (const v of this.rawHeader(name)) {
      for (const a of parseAddressList(v.slice(0, 16 * 1024))) {
        if (a.group) for (const g of a.group) out.push(g.address);
        else out.push(a.address);
      }
    }
    return out;
  }

  private parsed(): MimeMessage {
    this.mime ??= parseMessage(this.raw);
    return this.mime;
  }

  /** The body undecoded (RFC 5173 :raw). */
  rawBody(): string {
    const m = this.parsed();
    return m.buf.subarray(m.root.bodyStart, Math.min(m.root.bodyEnd, m.root.bodyStart + MAX_BODY_SCAN)).toString('latin1');
  }

  /**
   * Decoded bodies of the leaf parts whose type matches one of `types`
   * ("text", "text/html", "" for any); :text is ["text"].
   */
  bodies(types: readonly string[]): string[] {
    const out: string[] = [];
    let left = MAX_BODY_SCAN;
    for (const { part } of listParts(this.parsed())) {
      if (left <= 0) break;
      if (part.multipart || part.message) continue;
      const ct = `${part.contentType.type}/${part.contentType.subtype}`.toLowerCase();
      const ok = types.some((t) => {
        const l = t.toLowerCase();
        return l === '' || l === ct || (!l.includes('/') && l === part.contentType.type.toLowerCase());
      });
      if (!ok) continue;
      const text = part.contentType.type.toLowerCase() === 'text' ? decodePartText(this.parsed(), part, left) : '';
      left -= text.length;
      out.push(text);
    }
    return out;
  }
}
