/**
 * The CA key in a PKCS#11 token (a hardware security module, or SoftHSM2 for
 * small setups): the key pair is generated on the token as sensitive and
 * non-extractable, and every signature is made there, so the private key
 * never reaches this process. All native calls of postern go through this
 * file. The binding (pkcs11js, a native module) is loaded only when a token
 * is opened, so postern runs on a machine without it until a token is used.
 * The one part of crypto/ that talks to a device: it opens no files itself
 * (the module loader and the token do).
 */
import { createHash, createPublicKey, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { isAbsolute } from 'node:path';
import type * as P11 from 'pkcs11js';
import type { CaKeyAlgorithm } from './ca.js';
import { CaError, type Signer, type SignerAlgorithm, ecdsaRawToDer } from './signer.js';

type Binding = typeof P11;
type Handle = Buffer;

let binding: Binding | undefined;

function loadBinding(): Binding {
  if (binding) return binding;
  try {
    binding = createRequire(import.meta.url)('pkcs11js') as Binding;
  } catch (e) {
    throw new CaError(`PKCS#11 is not available: the pkcs11js native module could not be loaded (${(e as Error).message.split('\n')[0]})`);
  }
  return binding;
}

/** What the usual return values mean for the officer; others are named as the token gave them. */
const REASONS: Record<string, string> = {
  CKR_PIN_INCORRECT: 'wrong token PIN',
  CKR_PIN_INVALID: 'the token PIN has characters the token refuses',
  CKR_PIN_LEN_RANGE: 'the token PIN is too short or too long for this token (a wrong PIN)',
  CKR_PIN_LOCKED: 'the token PIN is locked after too many wrong tries; the token\'s security officer must reset it',
  CKR_PIN_EXPIRED: 'the token PIN has expired; set a new one with the token\'s tools',
  CKR_USER_PIN_NOT_INITIALIZED: 'the token has no user PIN yet; initialise it with the token\'s tools',
  CKR_TOKEN_NOT_PRESENT: 'the token is not present',
  CKR_TOKEN_NOT_RECOGNIZED: 'the token is not recognised by the module',
  CKR_DEVICE_REMOVED: 'the token was removed',
  CKR_DEVICE_ERROR: 'the token reported a device error',
  CKR_DEVICE_MEMORY: 'the token is out of memory',
  CKR_TOKEN_WRITE_PROTECTED: 'the token is write-protected',
  CKR_MECHANISM_INVALID: 'the token does not support the mechanism',
  CKR_KEY_FUNCTION_NOT_PERMITTED: 'the token key may not sign',
};

/** A PKCS#11 failure as a CaError that names the step and the reason; never any argument (a PIN). */
function tokenError(step: string, e: unknown): CaError {
  if (e instanceof CaError) return e;
  const err = e as { name?: string; message?: string };
  const code = err.name === 'Pkcs11Error' && err.message ? err.message : undefined;
  const reason = code ? (REASONS[code] ? `${REASONS[code]} (${code})` : code) : (err.message ?? String(e)).split('\n')[0];
  return new CaError(`${step}: ${reason}`);
}

/** One C_Initialize per module in this process, shared by its sessions (a second one would fail, and C_Finalize ends them all). */
interface Library {
  ready: Promise<P11.PKCS11>;
  /** Set once initialised, so that the last release finalises at once, before any new open. */
  p11?: P11.PKCS11;
  sessions: number;
}
const libraries = new Map<string, Library>();

function initialise(module: string): P11.PKCS11 {
  const pkcs11 = loadBinding();
  const p11 = new pkcs11.PKCS11();
  try {
    p11.load(module);
  } catch (e) {
    if (/No such file or directory/.test((e as Error).message)) throw new CaError(`PKCS#11 module ${module} does not exist (install the token's library, e.g. Debian's softhsm2, or give --module)`);
    throw tokenError(`cannot load PKCS#11 module ${module}`, e);
  }
  try {
    p11.C_Initialize();
  } catch (e) {
    p11.close();
    throw tokenError(`PKCS#11 module ${module} did not initialise`, e);
  }
  return p11;
}

/** The initialised module, counted; every acquire is matched by one release. */
async function acquire(module: string): Promise<P11.PKCS11> {
  let lib = libraries.get(module);
  if (!lib) {
    const created: Library = { ready: Promise.resolve().then(() => (created.p11 = initialise(module))), sessions: 0 };
    libraries.set(module, created);
    lib = created;
  }
  lib.sessions++;
  try {
    return await lib.ready;
  } catch (e) {
    // A module that failed stays failed for this attempt only: the next open tries again.
    if (--lib.sessions === 0 && libraries.get(module) === lib) libraries.delete(module);
    throw e;
  }
}

function release(module: string): void {
  const lib = libraries.get(module);
  if (!lib || --lib.sessions > 0) return;
  libraries.delete(module);
  const p11 = lib.p11; // always set: only a successful acquire is released
  if (!p11) return;
  try {
    p11.C_Finalize();
  } catch {
    /* a module that cannot finalise is unloaded all the same */
  }
  p11.close();
}

export interface OpenTokenOptions {
  /** Absolute path of the PKCS#11 module (e.g. /usr/lib/softhsm/libsofthsm2.so). */
  module: string;
  /** The token's label, as given when it was initialised. */
  tokenLabel: string;
  /** The user PIN. */
  pin: string;
}

/** A logged-in session on one token. Close it when done (it logs out and finalises the module when it is the last). */
export interface TokenSession {
  readonly module: string;
  readonly tokenLabel: string;
  close(): void;
}

/** The session's internals, reachable only from this file. */
interface SessionState {
  p11: P11.PKCS11;
  pkcs11: Binding;
  handle: Handle;
  closed: boolean;
  /** A PKCS#11 session runs one operation at a time: signatures queue here. */
  queue: Promise<unknown>;
}
const states = new WeakMap<TokenSession, SessionState>();

function stateOf(session: TokenSession): SessionState {
  const s = states.get(session);
  if (!s || s.closed) throw new CaError('the token session is closed');
  return s;
}

const MAX_LABEL = 64;
function checkLabel(label: string, what: string): string {
  if (typeof label !== 'string' || label.length === 0 || label.length > MAX_LABEL || !/^[\x20-\x7e]+$/.test(label) || label.trim() !== label) {
    throw new CaError(`${what} must be 1 to ${MAX_LABEL} printable ASCII characters without leading or trailing spaces`);
  }
  return label;
}

/** Finds the token by its label, opens a read-write session and logs the user in. */
export async function openToken(opts: OpenTokenOptions): Promise<TokenSession> {
  if (typeof opts.module !== 'string' || !isAbsolute(opts.module)) throw new CaError(`the PKCS#11 module must be an absolute path, got ${JSON.stringify(opts.module)}`);
  const tokenLabel = checkLabel(opts.tokenLabel, 'the token label');
  if (typeof opts.pin !== 'string' || opts.pin.length === 0) throw new CaError('the token PIN is empty');
  const p11 = await acquire(opts.module);
  const pkcs11 = loadBinding();
  let handle: Handle | undefined;
  try {
    let slots: Handle[];
    try {
      slots = p11.C_GetSlotList(true);
    } catch (e) {
      throw tokenError('listing the tokens failed', e);
    }
    const labels: string[] = [];
    const found: Handle[] = [];
    for (const slot of slots) {
      let label: string;
      try {
        label = p11.C_GetTokenInfo(slot).label.replace(/[\s\0]+$/, '');
      } catch {
        continue; // a slot whose token went away or is not recognised is not the one
      }
      if (label) labels.push(label);
      if (label === tokenLabel) found.push(slot);
    }
    if (found.length === 0) throw new CaError(`no token labelled "${tokenLabel}" in ${opts.module} (tokens: ${labels.length ? labels.map((l) => `"${l}"`).join(', ') : 'none'}; the token is not present)`);
    if (found.length > 1) throw new CaError(`${found.length} tokens are labelled "${tokenLabel}" in ${opts.module}; give each a distinct label`);
    try {
      handle = p11.C_OpenSession(found[0]!, pkcs11.CKF_SERIAL_SESSION | pkcs11.CKF_RW_SESSION);
    } catch (e) {
      throw tokenError(`cannot open a session on token "${tokenLabel}"`, e);
    }
    try {
      p11.C_Login(handle, pkcs11.CKU_USER, opts.pin);
    } catch (e) {
      if ((e as Error).message !== 'CKR_USER_ALREADY_LOGGED_IN') throw tokenError(`login to token "${tokenLabel}" failed`, e);
    }
  } catch (e) {
    if (handle) closeQuietly(p11, handle);
    release(opts.module);
    throw e;
  }
  const session: TokenSession = {
    module: opts.module,
    tokenLabel,
    close() {
      const s = states.get(session);
      if (!s || s.closed) return;
      s.closed = true;
      try {
        closeQuietly(p11, s.handle);
      } finally {
        release(opts.module);
      }
    },
  };
  states.set(session, { p11, pkcs11, handle, closed: false, queue: Promise.resolve() });
  return session;
}

function closeQuietly(p11: P11.PKCS11, handle: Handle): void {
  // Logging out of one session logs out all of the application's sessions on that token: only
  // closing the session here; C_Finalize (by the last session) ends the login.
  try {
    p11.C_CloseSession(handle);
  } catch {
    /* already gone with the token; finalising cleans up */
  }
}

function ulong(b: Buffer): number {
  if (b.length === 8) return Number(b.readBigUInt64LE());
  if (b.length === 4) return b.readUInt32LE();
  throw new CaError(`unexpected CK_ULONG of ${b.length} bytes from the token`);
}
const flag = (b: Buffer): boolean => b.length > 0 && b[0] !== 0;

function attributes(s: SessionState, object: Handle, types: number[]): Buffer[] {
  const got = s.p11.C_GetAttributeValue(s.handle, object, types.map((type) => ({ type })));
  return types.map((t) => {
    const a = got.find((x) => x.type === t);
    if (!a) throw new CaError(`the token did not return attribute ${t}`);
    return a.value;
  });
}

function find(s: SessionState, template: P11.Template, max = 4): Handle[] {
  s.p11.C_FindObjectsInit(s.handle, template);
  try {
    return s.p11.C_FindObjects(s.handle, max);
  } finally {
    s.p11.C_FindObjectsFinal(s.handle);
  }
}

const CURVES = {
  'p-256': { oid: Buffer.from('06082a8648ce3d030107', 'hex'), crv: 'P-256', size: 32, algorithm: 'ecdsa-sha256', hash: 'sha256' },
  'p-384': { oid: Buffer.from('06052b81040022', 'hex'), crv: 'P-384', size: 48, algorithm: 'ecdsa-sha384', hash: 'sha384' },
} as const;
type Curve = (typeof CURVES)[keyof typeof CURVES];
const curveOf = (params: Buffer): Curve | undefined => Object.values(CURVES).find((c) => c.oid.equals(params));

const b64url = (b: Buffer): string => b.toString('base64url');
const unsigned = (b: Buffer): Buffer => {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
};

/** CKA_EC_POINT is a DER OCTET STRING around the point (PKCS#11 2.40); some tokens give the bare point. */
function ecPoint(value: Buffer, size: number): Buffer {
  const bare = 1 + 2 * size;
  if (value.length === bare && value[0] === 0x04) return value;
  if (value[0] === 0x04 && value[1] === bare && value.length === bare + 2 && value[2] === 0x04) return value.subarray(2);
  if (value[0] === 0x04 && value[1] === 0x81 && value[2] === bare && value.length === bare + 3 && value[3] === 0x04) return value.subarray(3);
  throw new CaError('the token\'s CKA_EC_POINT is not an uncompressed point on the key\'s curve');
}

interface KeyInfo {
  privateKey: Handle;
  publicKey: Handle;
  algorithm: SignerAlgorithm;
  spki: Uint8Array;
  /** The signature length: RSA modulus bytes, or r||s. */
  signatureBytes: number;
  curve?: Curve;
}

/** The public key as SPKI DER, built from the token's attributes and checked by node:crypto (an EC point must lie on its curve). */
function publicKeyOf(s: SessionState, publicKey: Handle, keyType: number): Omit<KeyInfo, 'privateKey' | 'publicKey'> {
  const { pkcs11 } = s;
  try {
    if (keyType === pkcs11.CKK_RSA) {
      const [n, e] = attributes(s, publicKey, [pkcs11.CKA_MODULUS, pkcs11.CKA_PUBLIC_EXPONENT]) as [Buffer, Buffer];
      const key = createPublicKey({ key: { kty: 'RSA', n: b64url(unsigned(n)), e: b64url(unsigned(e)) }, format: 'jwk' });
      return { algorithm: 'rsa-pkcs1-sha256', spki: new Uint8Array(key.export({ type: 'spki', format: 'der' })), signatureBytes: unsigned(n).length };
    }
    if (keyType === pkcs11.CKK_EC) {
      const [params, point] = attributes(s, publicKey, [pkcs11.CKA_EC_PARAMS, pkcs11.CKA_EC_POINT]) as [Buffer, Buffer];
      const curve = curveOf(params);
      if (!curve) throw new CaError(`the token's EC key is on a curve postern does not use (CKA_EC_PARAMS ${params.toString('hex')}; P-256 or P-384)`);
      const p = ecPoint(point, curve.size);
      const key = createPublicKey({ key: { kty: 'EC', crv: curve.crv, x: b64url(p.subarray(1, 1 + curve.size)), y: b64url(p.subarray(1 + curve.size)) }, format: 'jwk' });
      return { algorithm: curve.algorithm, spki: new Uint8Array(key.export({ type: 'spki', format: 'der' })), signatureBytes: 2 * curve.size, curve };
    }
  } catch (e) {
    if (e instanceof CaError) throw e;
    throw new CaError(`the token's public key is not a valid key: ${(e as Error).message}`);
  }
  throw new CaError(`the token key is of type ${keyType}; postern signs with RSA or EC keys`);
}

/** The private key labelled `label`, its public key, and a refusal when the private key could leave the token. */
function keyByLabel(s: SessionState, label: string, tokenLabel: string): KeyInfo {
  const { pkcs11 } = s;
  const privs = find(s, [{ type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PRIVATE_KEY }, { type: pkcs11.CKA_LABEL, value: label }]);
  if (privs.length === 0) throw new CaError(`token "${tokenLabel}" has no private key labelled "${label}"`);
  if (privs.length > 1) throw new CaError(`token "${tokenLabel}" has ${privs.length} private keys labelled "${label}"; postern needs exactly one`);
  const privateKey = privs[0]!;
  const [type, id, sensitive, extractable, canSign] = attributes(s, privateKey, [pkcs11.CKA_KEY_TYPE, pkcs11.CKA_ID, pkcs11.CKA_SENSITIVE, pkcs11.CKA_EXTRACTABLE, pkcs11.CKA_SIGN]) as [Buffer, Buffer, Buffer, Buffer, Buffer];
  if (!flag(sensitive) || flag(extractable)) {
    throw new CaError(`the key "${label}" on token "${tokenLabel}" can be exported (CKA_SENSITIVE ${flag(sensitive)}, CKA_EXTRACTABLE ${flag(extractable)}); postern signs only with keys that cannot leave the token`);
  }
  if (!flag(canSign)) throw new CaError(`the key "${label}" on token "${tokenLabel}" may not sign (CKA_SIGN false)`);
  const pubTemplate: P11.Template = [{ type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PUBLIC_KEY }, { type: pkcs11.CKA_LABEL, value: label }];
  if (id.length > 0) pubTemplate.push({ type: pkcs11.CKA_ID, value: id });
  const pubs = find(s, pubTemplate);
  if (pubs.length !== 1) throw new CaError(`token "${tokenLabel}" has ${pubs.length} public keys for "${label}"; postern needs exactly one beside the private key`);
  return { privateKey, publicKey: pubs[0]!, ...publicKeyOf(s, pubs[0]!, ulong(type)) };
}

export interface GenerateTokenKeyOptions {
  /** CKA_LABEL of the new key pair; refused when the token already holds an object with it. */
  label: string;
  algorithm: CaKeyAlgorithm;
}

export interface GeneratedTokenKey {
  /** The public key, SubjectPublicKeyInfo DER. */
  publicKeySpki: Uint8Array;
  /** CKA_ID of both halves (hex). */
  id: string;
}

/**
 * Generates the CA key pair on the token: the private key is a token object,
 * private (login needed), sensitive and never extractable, and may only sign.
 */
export async function generateTokenKey(session: TokenSession, opts: GenerateTokenKeyOptions): Promise<GeneratedTokenKey> {
  const s = stateOf(session);
  const { pkcs11 } = s;
  const label = checkLabel(opts.label, 'the key label');
  const ec = opts.algorithm === 'p-256' || opts.algorithm === 'p-384' ? CURVES[opts.algorithm] : undefined;
  if (!ec && opts.algorithm !== 'rsa-3072') throw new CaError(`unsupported key algorithm ${String(opts.algorithm)} (rsa-3072, p-256 or p-384)`);
  try {
    if (find(s, [{ type: pkcs11.CKA_LABEL, value: label }], 1).length > 0) throw new CaError(`token "${session.tokenLabel}" already holds an object labelled "${label}"; choose another key label`);
  } catch (e) {
    throw tokenError('looking for existing keys failed', e);
  }
  // The id ties the two halves together (and is how a half-made pair is found again to remove it).
  const id = randomBytes(16);
  const common: P11.Template = [
    { type: pkcs11.CKA_TOKEN, value: true },
    { type: pkcs11.CKA_LABEL, value: label },
    { type: pkcs11.CKA_ID, value: id },
    { type: pkcs11.CKA_KEY_TYPE, value: ec ? pkcs11.CKK_EC : pkcs11.CKK_RSA },
  ];
  const publicTemplate: P11.Template = [
    ...common,
    { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PUBLIC_KEY },
    { type: pkcs11.CKA_PRIVATE, value: false },
    { type: pkcs11.CKA_VERIFY, value: true },
    { type: pkcs11.CKA_ENCRYPT, value: false },
    { type: pkcs11.CKA_WRAP, value: false },
    ...(ec
      ? [{ type: pkcs11.CKA_EC_PARAMS, value: ec.oid }]
      : [
          { type: pkcs11.CKA_MODULUS_BITS, value: 3072 },
          { type: pkcs11.CKA_PUBLIC_EXPONENT, value: Buffer.from([0x01, 0x00, 0x01]) },
        ]),
  ];
  const privateTemplate: P11.Template = [
    ...common,
    { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PRIVATE_KEY },
    { type: pkcs11.CKA_PRIVATE, value: true },
    { type: pkcs11.CKA_SENSITIVE, value: true },
    { type: pkcs11.CKA_EXTRACTABLE, value: false },
    { type: pkcs11.CKA_SIGN, value: true },
    { type: pkcs11.CKA_DECRYPT, value: false },
    { type: pkcs11.CKA_UNWRAP, value: false },
    { type: pkcs11.CKA_DERIVE, value: false },
  ];
  let pair: P11.KeyPair;
  try {
    pair = await s.p11.C_GenerateKeyPairAsync(s.handle, { mechanism: ec ? pkcs11.CKM_EC_KEY_PAIR_GEN : pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN }, publicTemplate, privateTemplate);
  } catch (e) {
    throw tokenError(`generating the ${opts.algorithm} key on token "${session.tokenLabel}" failed`, e);
  }
  try {
    // A token that ignored the template must not hold the CA key: read back what it made.
    const key = keyByLabel(s, label, session.tokenLabel);
    return { publicKeySpki: key.spki, id: id.toString('hex') };
  } catch (e) {
    for (const h of [pair.privateKey, pair.publicKey]) {
      try {
        s.p11.C_DestroyObject(s.handle, h);
      } catch {
        /* best effort: the refusal below is what matters */
      }
    }
    throw tokenError('the generated key was refused', e);
  }
}

/**
 * Removes a key pair this process just generated (by its CKA_ID), when what
 * was to use it failed before anything referred to it.
 */
export function discardTokenKey(session: TokenSession, id: string): void {
  const s = stateOf(session);
  if (!/^[0-9a-f]{32}$/.test(id)) throw new CaError('discardTokenKey takes the id generateTokenKey returned');
  try {
    for (const h of find(s, [{ type: s.pkcs11.CKA_ID, value: Buffer.from(id, 'hex') }])) s.p11.C_DestroyObject(s.handle, h);
  } catch (e) {
    throw tokenError('removing the unused key failed', e);
  }
}

/**
 * A Signer over the private key labelled `label` on the token. RSA signs with
 * CKM_SHA256_RSA_PKCS; EC hashes here (SHA-256 for P-256, SHA-384 for P-384)
 * and signs the digest with CKM_ECDSA, whose raw r||s becomes DER. The caller
 * verifies each signature (`signChecked` in the CA code).
 */
export function tokenSigner(session: TokenSession, opts: { label: string }): Signer {
  const s = stateOf(session);
  const label = checkLabel(opts.label, 'the key label');
  let key: KeyInfo;
  try {
    key = keyByLabel(s, label, session.tokenLabel);
  } catch (e) {
    throw tokenError(`the CA key on token "${session.tokenLabel}"`, e);
  }
  const signOnce = async (tbs: Uint8Array): Promise<Uint8Array> => {
    const st = stateOf(session);
    const { pkcs11 } = st;
    const data = key.curve ? createHash(key.curve.hash).update(tbs).digest() : Buffer.from(tbs);
    const mechanism = key.curve ? pkcs11.CKM_ECDSA : pkcs11.CKM_SHA256_RSA_PKCS;
    let signature: Buffer;
    try {
      st.p11.C_SignInit(st.handle, { mechanism }, key.privateKey);
      signature = await st.p11.C_SignAsync(st.handle, data, Buffer.alloc(key.signatureBytes));
    } catch (e) {
      throw tokenError(`signing on token "${session.tokenLabel}" failed`, e);
    }
    if (signature.length !== key.signatureBytes) throw new CaError(`the token returned a ${signature.length}-byte signature, expected ${key.signatureBytes}`);
    return key.curve ? ecdsaRawToDer(signature) : new Uint8Array(signature);
  };
  return {
    algorithm: key.algorithm,
    publicKeySpki: key.spki,
    sign(tbs) {
      const next = s.queue.then(() => signOnce(tbs));
      s.queue = next.catch(() => undefined);
      return next;
    },
  };
}
