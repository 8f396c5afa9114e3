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
import { decodeStructure } from '../mailbox/cached-structure.js';
import type { CachedStructure } from '../mailbox/header-cache.js';

export interface MessageStructure {
  readonly envelope: EnvelopeData;
  readonly body: BodyStructureData;
  /** The ENVELOPE as IMAP writes it for any client, when the header cache kept it (sent as it is). */
  readonly envelopeText?: string | null;
  /** False when only the ENVELOPE text is known (see EnvelopeOnly). */
  readonly hasBody?: boolean;
}

/**
 * What is known of a message whose entry was made for ENVELOPE alone: the
 * ENVELOPE text. Anything else is derived from the message (hasBody false
 * tells the FETCH code so); asking this object for it is a bug.
 */
export class EnvelopeOnly implements MessageStructure {
  readonly hasBody = false;

  constructor(readonly envelopeText: string) {}

  get envelope(): EnvelopeData {
    throw new Error('only the ENVELOPE text is known');
  }

  get body(): BodyStructureData {
    throw new Error('the body structure is not known');
  }
}

/** Whether a known structure answers a FETCH (that needs the body structure, or not). */
export function answers(known: MessageStructure | undefined, needBody: boolean): known is MessageStructure {
  return known !== undefined && (!needBody || known.hasBody !== false);
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
export function structureFrom(cached: CachedStructure, envelopeText: string | null = null): MessageStructure {
  return { envelope: cached.envelope, body: convert(cached.body), envelopeText };
}

/**
 * The same from a header cache detail's structure text, decoded only when
 * something other than the kept ENVELOPE text is asked for: a FETCH ENVELOPE
 * answered from the cache decodes nothing. Holds the text (a copy), not the
 * row it came from.
 */
export class CachedMessageStructure implements MessageStructure {
  private decoded: MessageStructure | null = null;

  constructor(
    private readonly json: string,
    readonly envelopeText: string | null,
  ) {}

  private get full(): MessageStructure {
    this.decoded ??= structureFrom(decodeStructure(this.json));
    return this.decoded;
  }

  get envelope(): EnvelopeData {
    return this.full.envelope;
  }

  get body(): BodyStructureData {
    return this.full.body;
  }
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

  /** The value, without counting as a use. */
  peek(key: K): V | undefined {
    return this.map.get(key);
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
