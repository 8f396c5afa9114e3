/**
 * The signed content of an opaque S/MIME message (application/pkcs7-mime;
 * smime-type=signed-data): ContentInfo → SignedData → encapContentInfo →
 * eContent, read with a small BER walker (definite and indefinite lengths,
 * constructed OCTET STRINGs as Outlook writes them). Nothing is verified:
 * this only finds the MIME entity inside. Bounded depth, never throws.
 */

interface Tlv {
  readonly tag: number;
  /** Content [start, end). */
  readonly start: number;
  readonly end: number;
  /** Offset after the element (after its end-of-contents octets when indefinite). */
  readonly next: number;
}

const MAX_DEPTH = 12;
const MAX_CHILDREN = 4096;

function tlv(b: Uint8Array, at: number, depth: number): Tlv | null {
  if (depth > MAX_DEPTH || at + 2 > b.length) return null;
  const tag = b[at]!;
  if ((tag & 0x1f) === 0x1f) return null;
  let len = b[at + 1]!;
  let p = at + 2;
  if (len === 0x80) {
    if ((tag & 0x20) === 0) return null;
    for (let q = p, n = 0; n < MAX_CHILDREN; n++) {
      if (q + 2 > b.length) return null;
      if (b[q] === 0 && b[q + 1] === 0) return { tag, start: p, end: q, next: q + 2 };
      const child = tlv(b, q, depth + 1);
      if (!child) return null;
      q = child.next;
    }
    return null;
  }
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n > 4 || p + n > b.length) return null;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[p++]!;
  }
  if (p + len > b.length) return null;
  return { tag, start: p, end: p + len, next: p + len };
}

function children(b: Uint8Array, t: Tlv, depth: number): Tlv[] {
  const out: Tlv[] = [];
  for (let q = t.start; q < t.end && out.length < MAX_CHILDREN; ) {
    const c = tlv(b, q, depth + 1);
    if (!c) break;
    out.push(c);
    q = c.next;
  }
  return out;
}

/** An OCTET STRING's bytes, its pieces joined when constructed. */
function octets(b: Uint8Array, t: Tlv, depth: number): Uint8Array | null {
  if (t.tag === 0x04) return b.subarray(t.start, t.end);
  if (t.tag !== 0x24 || depth > MAX_DEPTH) return null;
  const parts: Uint8Array[] = [];
  for (const c of children(b, t, depth)) {
    const p = octets(b, c, depth + 1);
    if (!p) return null;
    parts.push(p);
  }
  return Buffer.concat(parts);
}

const SIGNED_DATA = Buffer.from([0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02]);

/** The encapsulated content of a CMS SignedData, or null when there is none (detached) or it cannot be read. */
export function signedContent(der: Uint8Array): Uint8Array | null {
  const ci = tlv(der, 0, 0);
  if (!ci || ci.tag !== 0x30) return null;
  const [oid, wrapped] = children(der, ci, 0);
  if (!oid || oid.tag !== 0x06 || !Buffer.from(der.subarray(oid.start, oid.end)).equals(SIGNED_DATA)) return null;
  if (!wrapped || wrapped.tag !== 0xa0) return null;
  const sd = children(der, wrapped, 1)[0];
  if (!sd || sd.tag !== 0x30) return null;
  const encap = children(der, sd, 2)[2];
  if (!encap || encap.tag !== 0x30) return null;
  const econtent = children(der, encap, 3)[1];
  if (!econtent || econtent.tag !== 0xa0) return null;
  const os = children(der, econtent, 4)[0];
  return os ? octets(der, os, 5) : null;
}
