/**
 * ENVELOPE and BODYSTRUCTURE data for the IMAP encoder, built from the MIME
 * codec's parse or from the header cache (src/mailbox/header-cache.ts), and
 * kept per blob in a bounded LRU: clients that sync a folder fetch them for
 * every message, and a blob never changes.
 */
import type { BodyStructureData, EnvelopeData, ParamList } from '../codec/imap/index.js';
import {
  buildBodyStructure,
  buildEnvelope,
  type ImapBodyStructure,
  type ImapDisposition,
  type ImapParam,
  type MimeMessage,
} from '../codec/mime/index.js';
import type { CachedStructure } from '../mailbox/header-cache.js';

export interface MessageStructure {
  readonly envelope: EnvelopeData;
  readonly body: BodyStructureData;
}

const params = (list: readonly ImapParam[]): ParamList => list.map((p) => [p.name, p.value] as const);

const disposition = (d: ImapDisposition | null) => (d ? { type: d.type, params: params(d.params) } : null);

function convert(b: ImapBodyStructure): BodyStructureData {
  const ext = { disposition: disposition(b.disposition), language: b.language, location: b.location };
  if (b.kind === 'multipart') {
    return { kind: 'multipart', subtype: b.subtype, parts: b.children.map(convert), params: params(b.params), ...ext };
  }
  const fields = {
    params: params(b.params),
    id: b.id,
    description: b.description,
    encoding: b.encoding.toUpperCase(),
    size: b.size,
    md5: b.md5,
    ...ext,
  };
  if (b.type === 'text') return { kind: 'text', subtype: b.subtype, lines: b.lines ?? 0, ...fields };
  if (b.envelope && b.body) {
    return { kind: 'message', subtype: b.subtype, envelope: b.envelope, body: convert(b.body), lines: b.lines ?? 0, ...fields };
  }
  return { kind: 'basic', type: b.type, subtype: b.subtype, ...fields };
}

export function structureOf(msg: MimeMessage): MessageStructure {
  return { envelope: buildEnvelope(msg.root), body: convert(buildBodyStructure(msg.root)) };
}

/** The same from the codec's data as the header cache keeps it. */
export function structureFrom(cached: CachedStructure): MessageStructure {
  return { envelope: cached.envelope, body: convert(cached.body) };
}

/** Least-recently-used cache with a fixed number of entries. */
export class Lru<K, V> {
  private readonly map = new Map<K, V>();

  constructor(private readonly max: number) {}

  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  /** Whether the key is held, without counting as a use (a Map delete and set per look is not free). */
  has(key: K): boolean {
    return this.map.has(key);
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.max) this.map.delete(this.map.keys().next().value as K);
  }

  get size(): number {
    return this.map.size;
  }
}

/** Shared by every connection of a listener. */
export type StructureCache = Lru<string, MessageStructure>;

export const STRUCTURE_CACHE_ENTRIES = 20_000;
