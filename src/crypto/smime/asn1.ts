/**
 * Bounded BER/DER parsing over asn1js (encoding is done with ../der.ts, whose
 * output is exact bytes). CMS arrives from any
 * sender, so every parse goes through `parseDer` with caps on size, depth and
 * node count; what does not fit is a `CmsError` the callers turn into a
 * 'malformed' verdict, never an exception that escapes.
 */
import * as asn1js from 'asn1js';
import { oid, seq } from '../der.js';

/** Largest CMS object accepted (a message is capped well below this upstream). */
export const MAX_CMS_BYTES = 64 * 1024 * 1024;
const MAX_DEPTH = 64;
const MAX_NODES = 200_000;

export class CmsError extends Error {
  override name = 'CmsError';
}

export function parseDer(bytes: Uint8Array, what = 'CMS'): asn1js.AsnType {
  if (bytes.length === 0) throw new CmsError(`${what}: empty`);
  if (bytes.length > MAX_CMS_BYTES) throw new CmsError(`${what}: larger than ${MAX_CMS_BYTES} bytes`);
  let parsed: asn1js.FromBerResult;
  try {
    parsed = asn1js.fromBER(bytes, { maxDepth: MAX_DEPTH, maxNodes: MAX_NODES, maxContentLength: MAX_CMS_BYTES });
  } catch (err) {
    throw new CmsError(`${what}: ${(err as Error).message}`);
  }
  if (parsed.offset === -1 || parsed.result.error) throw new CmsError(`${what}: not BER (${parsed.result.error || 'bad encoding'})`);
  return parsed.result;
}

export const bytesOf = (buf: ArrayBuffer | ArrayBufferView): Uint8Array =>
  buf instanceof ArrayBuffer ? new Uint8Array(buf) : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);

/** The value of an OCTET STRING, primitive or constructed (BER chunks, as streaming encoders write). */
export function octetValue(node: asn1js.AsnType | undefined, budget = MAX_CMS_BYTES): Uint8Array {
  if (!node) throw new CmsError('missing OCTET STRING');
  const parts: Uint8Array[] = [];
  let total = 0;
  const walk = (n: asn1js.AsnType, depth: number): void => {
    if (depth > 8) throw new CmsError('OCTET STRING nested too deep');
    const block = n as asn1js.BaseBlock & { valueBlock: { value?: asn1js.AsnType[]; valueHexView?: Uint8Array } };
    if (block.idBlock.isConstructed) {
      for (const child of block.valueBlock.value ?? []) walk(child, depth + 1);
      return;
    }
    const v = block.valueBlock.valueHexView ?? new Uint8Array(0);
    total += v.length;
    if (total > budget) throw new CmsError('OCTET STRING too large');
    parts.push(v);
  };
  walk(node, 0);
  return concat(parts);
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** AlgorithmIdentifier with absent parameters, or the given (encoded) ones. */
export const algId = (dotted: string, params?: Uint8Array): Buffer => (params ? seq(oid(dotted), params) : seq(oid(dotted)));

/** The exact bytes a parsed node was decoded from. */
export const rawOf = (node: asn1js.AsnType): Uint8Array => bytesOf(node.valueBeforeDecodeView);

/** Elements of a SEQUENCE/SET/constructed node, or an error. */
export function children(node: asn1js.AsnType | undefined, what: string): asn1js.AsnType[] {
  const b = node as (asn1js.BaseBlock & { valueBlock: { value?: unknown } }) | undefined;
  if (!b || !b.idBlock.isConstructed || !Array.isArray(b.valueBlock.value)) throw new CmsError(`${what}: not a constructed value`);
  return b.valueBlock.value as asn1js.AsnType[];
}

export const isContextTag = (node: asn1js.AsnType | undefined, n: number): boolean =>
  !!node && node.idBlock.tagClass === 3 && node.idBlock.tagNumber === n;

export function oidOf(node: asn1js.AsnType | undefined, what: string): string {
  if (!(node instanceof asn1js.ObjectIdentifier)) throw new CmsError(`${what}: not an OID`);
  return node.valueBlock.toString();
}
