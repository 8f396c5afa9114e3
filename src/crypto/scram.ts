/**
 * SCRAM-SHA-256 and SCRAM-SHA-256-PLUS (RFC 5802, RFC 7677) for the server
 * side: the keys kept beside the scrypt hash, and a pure exchange that parses
 * the client's messages, writes the server's and checks the proof. No I/O:
 * the caller looks the keys up and hands in the channel-binding data.
 */
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';

/** PBKDF2 iterations for new keys: RFC 7677 asks for at least 4096. */
export const SCRAM_ITERATIONS = 10_000;
// Bounds for keys read back from the store, so a planted record cannot make one login cost minutes.
const MIN_ITERATIONS = 4096;
const MAX_ITERATIONS = 1_000_000;
const SALT_BYTES = 16;
/** Longest client message read: names and nonces are short, a proof is 44 characters. */
export const MAX_SCRAM_MESSAGE = 2048;

export type ChannelBindingType = 'tls-exporter' | 'tls-server-end-point';

export interface ScramKeys {
  readonly salt: Buffer;
  readonly iterations: number;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
}

const hmac = (key: Buffer, data: string | Buffer): Buffer => createHmac('sha256', key).update(data).digest();
const sha256 = (data: Buffer): Buffer => createHash('sha256').update(data).digest();

/** The password as SCRAM hashes it: NFKC, the normalisation SASLprep (RFC 4013) is built on. */
function prepare(password: string): Buffer {
  return Buffer.from(password.normalize('NFKC'), 'utf8');
}

/** StoredKey and ServerKey for a password (RFC 5802 section 3). */
export async function deriveScramKeys(password: string, salt: Buffer = randomBytes(SALT_BYTES), iterations = SCRAM_ITERATIONS): Promise<ScramKeys> {
  const salted = await new Promise<Buffer>((resolve, reject) =>
    pbkdf2(prepare(password), salt, iterations, 32, 'sha256', (err, key) => (err ? reject(err) : resolve(key))),
  );
  const clientKey = hmac(salted, 'Client Key');
  return { salt, iterations, storedKey: sha256(clientKey), serverKey: hmac(salted, 'Server Key') };
}

/** The stored form, as RFC 5803 writes it: SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>. */
export function encodeScramKeys(k: ScramKeys): string {
  return `SCRAM-SHA-256$${k.iterations}:${k.salt.toString('base64')}$${k.storedKey.toString('base64')}:${k.serverKey.toString('base64')}`;
}

/** Null for anything that is not a well-formed record within bounds. */
export function parseScramKeys(encoded: string | null | undefined): ScramKeys | null {
  if (!encoded) return null;
  const m = /^SCRAM-SHA-256\$(\d{1,7}):([A-Za-z0-9+/]{4,88}={0,2})\$([A-Za-z0-9+/]{43}=):([A-Za-z0-9+/]{43}=)$/.exec(encoded);
  if (!m) return null;
  const iterations = Number(m[1]);
  if (iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) return null;
  return {
    iterations,
    salt: Buffer.from(m[2] ?? '', 'base64'),
    storedKey: Buffer.from(m[3] ?? '', 'base64'),
    serverKey: Buffer.from(m[4] ?? '', 'base64'),
  };
}

/**
 * Keys for a name that has none (an unknown account, or one whose password
 * predates SCRAM): salt derived from a server secret and the name, so asking
 * twice gives the same answer and the reply looks like a real account's;
 * StoredKey is random, so no proof matches it.
 */
export function fakeScramKeys(secret: Buffer, username: string): ScramKeys {
  return {
    salt: hmac(secret, `scram-salt\0${username}`).subarray(0, SALT_BYTES),
    iterations: SCRAM_ITERATIONS,
    storedKey: randomBytes(32),
    serverKey: randomBytes(32),
  };
}

/**
 * tls-server-end-point (RFC 5929 section 4.1): the server certificate's hash
 * under its signature's hash function, SHA-256 when that is MD5 or SHA-1.
 */
export function serverEndPointHash(certDer: Buffer): Buffer {
  const alg = signatureHash(certDer);
  return createHash(alg).update(certDer).digest();
}

// Signature algorithm OIDs (DER content bytes, hex) naming SHA-384 and SHA-512.
const SHA384 = ['2a864886f70d01010c', '2a8648ce3d040303'];
const SHA512 = ['2a864886f70d01010d', '2a8648ce3d040304'];

/** The hash of a certificate's outer signatureAlgorithm; sha256 for anything else or unreadable. */
function signatureHash(der: Buffer): 'sha256' | 'sha384' | 'sha512' {
  const tlv = (at: number): { start: number; end: number } | null => {
    if (at + 2 > der.length) return null;
    let len = der[at + 1]!;
    let start = at + 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n < 1 || n > 4 || start + n > der.length) return null;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + der[start + i]!;
      start += n;
    }
    return start + len <= der.length ? { start, end: start + len } : null;
  };
  const cert = tlv(0);
  const tbs = cert && tlv(cert.start);
  const alg = tbs && tlv(tbs.end);
  const oid = alg && tlv(alg.start);
  if (!oid || der[alg.start] !== 0x06) return 'sha256';
  const hex = der.subarray(oid.start, oid.end).toString('hex');
  if (SHA384.includes(hex)) return 'sha384';
  if (SHA512.includes(hex)) return 'sha512';
  return 'sha256';
}

/** RFC 5802 section 7 error values the server sends as e=. */
export type ScramError =
  | 'invalid-encoding'
  | 'extensions-not-supported'
  | 'invalid-proof'
  | 'channel-bindings-dont-match'
  | 'server-does-support-channel-binding'
  | 'channel-binding-not-supported'
  | 'unsupported-channel-binding-type'
  | 'other-error';

export type ClientFirst = { ok: true; username: string } | { ok: false; error: ScramError };
export type ClientFinal = { ok: true; serverFinal: string } | { ok: false; error: ScramError; serverFinal: string };

export interface ScramExchangeOptions {
  /** The -PLUS mechanism was chosen. */
  readonly plus: boolean;
  /** Channel-binding data this connection can offer (empty outside TLS). */
  readonly bindings: Partial<Record<ChannelBindingType, Buffer>>;
  /** The server's part of the nonce (random by default; fixed only by tests). */
  readonly serverNonce?: string;
}

const PRINTABLE = /^[\x21-\x2b\x2d-\x7e]+$/; // RFC 5802 "printable": no comma
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** saslname (RFC 5802): "=2C" for comma and "=3D" for "="; any other "=" is malformed. */
function decodeSaslName(s: string): string | null {
  if (s.length === 0 || /=(?!2C|3D)/.test(s)) return null;
  return s.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

/**
 * One SCRAM exchange, server side: clientFirst → serverFirst → clientFinal.
 * Every method is total: malformed input yields an error value, never a throw.
 */
export class ScramExchange {
  private gs2Header = '';
  private cbType: ChannelBindingType | null = null;
  private clientFirstBare = '';
  private nonce = '';
  private serverFirstMessage = '';
  private stage: 'first' | 'final' | 'done' = 'first';

  constructor(private readonly opts: ScramExchangeOptions) {}

  clientFirst(message: string): ClientFirst {
    if (this.stage !== 'first') return { ok: false, error: 'other-error' };
    this.stage = 'done';
    if (message.length > MAX_SCRAM_MESSAGE) return { ok: false, error: 'other-error' };
    // gs2-header: cbind-flag "," [authzid] ","
    const m = /^(n|y|p=([A-Za-z0-9.-]+)),(?:a=([^,]*))?,(.*)$/s.exec(message);
    if (!m) return { ok: false, error: 'other-error' };
    const flag = m[1]!;
    const bound = this.opts.bindings;
    const offered = Object.keys(bound).length > 0;
    if (flag.startsWith('p=')) {
      if (!this.opts.plus) return { ok: false, error: 'channel-binding-not-supported' };
      const type = m[2] as ChannelBindingType;
      if (!Object.hasOwn(bound, type)) return { ok: false, error: 'unsupported-channel-binding-type' };
      this.cbType = type;
    } else if (this.opts.plus) {
      return { ok: false, error: 'other-error' }; // -PLUS without binding is not -PLUS
    } else if (flag === 'y' && offered) {
      // The client could bind and thinks we cannot: someone removed -PLUS from our list.
      return { ok: false, error: 'server-does-support-channel-binding' };
    }
    const authzid = m[3] === undefined ? null : decodeSaslName(m[3]);
    if (m[3] !== undefined && authzid === null) return { ok: false, error: 'invalid-encoding' };
    const bare = m[4]!;
    const b = /^(?:m=[^,]*,)?n=([^,]*),r=([^,]*)(?:,.*)?$/s.exec(bare);
    if (!b) return { ok: false, error: 'other-error' };
    if (bare.startsWith('m=')) return { ok: false, error: 'extensions-not-supported' };
    const username = decodeSaslName(b[1]!);
    const clientNonce = b[2]!;
    if (username === null || !PRINTABLE.test(clientNonce)) return { ok: false, error: 'invalid-encoding' };
    // Nobody may act as someone else: an authorisation identity must name the same account.
    if (authzid !== null && authzid !== '' && authzid.toLowerCase() !== username.toLowerCase()) return { ok: false, error: 'other-error' };
    this.gs2Header = message.slice(0, message.length - bare.length);
    this.clientFirstBare = bare;
    this.nonce = clientNonce + (this.opts.serverNonce ?? randomBytes(18).toString('base64'));
    this.stage = 'final';
    return { ok: true, username };
  }

  /** The server-first-message for these (real or fake) keys. */
  serverFirst(keys: Pick<ScramKeys, 'salt' | 'iterations'>): string {
    this.serverFirstMessage = `r=${this.nonce},s=${keys.salt.toString('base64')},i=${keys.iterations}`;
    return this.serverFirstMessage;
  }

  /** Checks the client-final-message against the keys; on success, the server-final-message (v=). */
  clientFinal(message: string, keys: Pick<ScramKeys, 'storedKey' | 'serverKey'>): ClientFinal {
    const fail = (error: ScramError): ClientFinal => ({ ok: false, error, serverFinal: `e=${error}` });
    if (this.stage !== 'final' || this.serverFirstMessage === '') return fail('other-error');
    this.stage = 'done';
    if (message.length > MAX_SCRAM_MESSAGE) return fail('other-error');
    const m = /^c=([^,]*),r=([^,]*)((?:,[a-z]=[^,]*)*?),p=([^,]*)$/s.exec(message);
    if (!m) return fail('other-error');
    const [, c = '', r = '', ext = '', p = ''] = m;
    if (ext !== '') return fail('extensions-not-supported');
    if (!BASE64.test(c) || !BASE64.test(p)) return fail('invalid-encoding');
    const cbData = this.cbType ? this.opts.bindings[this.cbType]! : Buffer.alloc(0);
    const expected = Buffer.concat([Buffer.from(this.gs2Header, 'utf8'), cbData]);
    const got = Buffer.from(c, 'base64');
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) return fail('channel-bindings-dont-match');
    if (r !== this.nonce) return fail('other-error');
    const proof = Buffer.from(p, 'base64');
    if (proof.length !== 32 || keys.storedKey.length !== 32) return fail('invalid-proof');
    const authMessage = `${this.clientFirstBare},${this.serverFirstMessage},c=${c},r=${r}`;
    const signature = hmac(keys.storedKey, authMessage);
    const clientKey = Buffer.alloc(32);
    for (let i = 0; i < 32; i++) clientKey[i] = proof[i]! ^ signature[i]!;
    if (!timingSafeEqual(sha256(clientKey), keys.storedKey)) return fail('invalid-proof');
    return { ok: true, serverFinal: `v=${hmac(keys.serverKey, authMessage).toString('base64')}` };
  }
}
