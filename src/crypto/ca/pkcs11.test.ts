/**
 * The CA key in a real SoftHSM2 token (a temp token directory per run):
 * keys generated on the token sign, node:crypto and the OpenSSL CLI verify
 * what was signed, and the private key cannot be read out or wrapped, neither
 * through the PKCS#11 API nor with OpenSC's pkcs11-tool.
 */
import { createPublicKey, verify } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as P11 from 'pkcs11js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SOFTHSM_MODULE, type SoftHsm, softHsm } from '../../../test/crypto/ca/softhsm.js';
import { type TempDir, run, tempDir, verifyLeaf } from '../../../test/crypto/ca/support.js';
import { CaError, buildCrl, createCa, issueFromCsr } from './index.js';
import { discardTokenKey, generateTokenKey, openToken, tokenSigner, type TokenSession } from './pkcs11.js';

const TOKEN = 'postern-test';
const PIN = 'user-pin-1234';
let hsm: SoftHsm;
let t: TempDir;

beforeAll(() => {
  hsm = softHsm();
  hsm.initToken(TOKEN, PIN);
  hsm.initToken('other-token', 'other-pin-1');
  t = tempDir();
});
afterAll(() => {
  hsm?.cleanup();
  t?.cleanup();
});

const open = () => openToken({ module: SOFTHSM_MODULE, tokenLabel: TOKEN, pin: PIN });

async function withToken<T>(f: (s: TokenSession) => Promise<T>): Promise<T> {
  const s = await open();
  try {
    return await f(s);
  } finally {
    s.close();
  }
}

function verifies(spki: Uint8Array, hash: string, data: Buffer, signature: Uint8Array): boolean {
  const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  return verify(hash, data, { key, dsaEncoding: 'der' }, signature);
}

describe('openToken', () => {
  it('refuses a wrong PIN, an unknown token, a missing module and an empty PIN with a clear reason', async () => {
    await expect(openToken({ module: SOFTHSM_MODULE, tokenLabel: TOKEN, pin: 'not-the-pin' })).rejects.toThrow(/login to token "postern-test" failed: wrong token PIN \(CKR_PIN_INCORRECT\)/);
    const missing = openToken({ module: SOFTHSM_MODULE, tokenLabel: 'no-such-token', pin: PIN });
    await expect(missing).rejects.toThrow(CaError);
    await expect(openToken({ module: SOFTHSM_MODULE, tokenLabel: 'no-such-token', pin: PIN })).rejects.toThrow(/no token labelled "no-such-token".*"postern-test".*not present/);
    await expect(openToken({ module: '/nonexistent/libpkcs11.so', tokenLabel: TOKEN, pin: PIN })).rejects.toThrow(/module \/nonexistent\/libpkcs11.so does not exist/);
    await expect(openToken({ module: 'libsofthsm2.so', tokenLabel: TOKEN, pin: PIN })).rejects.toThrow(/absolute path/);
    await expect(openToken({ module: SOFTHSM_MODULE, tokenLabel: TOKEN, pin: '' })).rejects.toThrow(/PIN is empty/);
    await expect(openToken({ module: SOFTHSM_MODULE, tokenLabel: ' padded', pin: PIN })).rejects.toThrow(/token label/);
    // A refused open leaves nothing behind: the right PIN still works afterwards.
    await withToken(() => Promise.resolve());
  });

  it('two sessions opened at once share the module; one closing leaves the other signing', async () => {
    const [a, b] = await Promise.all([open(), open()]);
    try {
      await generateTokenKey(a, { label: 'shared', algorithm: 'p-256' });
      const signer = tokenSigner(b, { label: 'shared' });
      a.close();
      const sig = await signer.sign(Buffer.from('after the other closed'));
      expect(verifies(signer.publicKeySpki, 'sha256', Buffer.from('after the other closed'), sig)).toBe(true);
    } finally {
      a.close();
      b.close();
    }
    // The module was finalised with the last session and opens again.
    await withToken((s) => Promise.resolve(expect(tokenSigner(s, { label: 'shared' }).algorithm).toBe('ecdsa-sha256')));
  });

  it('a closed session is refused, and closing twice is harmless', async () => {
    const s = await open();
    s.close();
    s.close();
    expect(() => tokenSigner(s, { label: 'anything' })).toThrow(/session is closed/);
  });
});

describe('generateTokenKey and tokenSigner', () => {
  const message = Buffer.from('the bytes of a TBSCertificate, or anything');

  it.each([
    ['p-256', 'ecdsa-sha256', 'sha256'],
    ['p-384', 'ecdsa-sha384', 'sha384'],
    ['rsa-3072', 'rsa-pkcs1-sha256', 'sha256'],
  ] as const)('%s: generated on the token, signs, and node:crypto verifies the signature', async (algorithm, signerAlg, hash) => {
    await withToken(async (s) => {
      const made = await generateTokenKey(s, { label: `ca-${algorithm}`, algorithm });
      const key = createPublicKey({ key: Buffer.from(made.publicKeySpki), format: 'der', type: 'spki' });
      if (algorithm === 'rsa-3072') expect(key.asymmetricKeyDetails).toMatchObject({ modulusLength: 3072, publicExponent: 65537n });
      else expect(key.asymmetricKeyDetails?.namedCurve).toBe(algorithm === 'p-256' ? 'prime256v1' : 'secp384r1');
      const signer = tokenSigner(s, { label: `ca-${algorithm}` });
      expect(signer.algorithm).toBe(signerAlg);
      expect(Buffer.from(signer.publicKeySpki).equals(Buffer.from(made.publicKeySpki))).toBe(true);
      const sig = await signer.sign(message);
      expect(verifies(signer.publicKeySpki, hash, message, sig)).toBe(true);
      expect(verifies(signer.publicKeySpki, hash, Buffer.concat([message, Buffer.from('x')]), sig)).toBe(false);
      // Several at once share the session one at a time; each is right.
      const many = await Promise.all(Array.from({ length: 5 }, (_, i) => signer.sign(Buffer.from(`message ${i}`))));
      many.forEach((sg, i) => expect(verifies(signer.publicKeySpki, hash, Buffer.from(`message ${i}`), sg)).toBe(true));
    });
  });

  it('refuses a label in use, an unknown label and a bad algorithm', async () => {
    await withToken(async (s) => {
      await generateTokenKey(s, { label: 'taken', algorithm: 'p-256' });
      await expect(generateTokenKey(s, { label: 'taken', algorithm: 'p-256' })).rejects.toThrow(/already holds an object labelled "taken"/);
      expect(() => tokenSigner(s, { label: 'never-made' })).toThrow(/has no private key labelled "never-made"/);
      await expect(generateTokenKey(s, { label: 'x', algorithm: 'rsa-1024' as never })).rejects.toThrow(/unsupported key algorithm/);
      await expect(generateTokenKey(s, { label: '', algorithm: 'p-256' })).rejects.toThrow(/key label/);
    });
  });

  it('discardTokenKey removes a just-made pair by its id', async () => {
    await withToken(async (s) => {
      const made = await generateTokenKey(s, { label: 'short-lived', algorithm: 'p-256' });
      discardTokenKey(s, made.id);
      expect(() => tokenSigner(s, { label: 'short-lived' })).toThrow(/no private key labelled/);
      // The label is free again.
      await generateTokenKey(s, { label: 'short-lived', algorithm: 'p-256' });
    });
  });

  it('a signature that does not verify never reaches a certificate (the CA checks each one)', async () => {
    await withToken(async (s) => {
      await generateTokenKey(s, { label: 'faulty', algorithm: 'p-256' });
      const good = tokenSigner(s, { label: 'faulty' });
      const ca = await createCa({ subject: 'faulty CA', validityDays: 30, signer: good });
      const flipping = { ...good, sign: async (tbs: Uint8Array) => {
        const sig = Buffer.from(await good.sign(tbs));
        sig[sig.length - 1]! ^= 1;
        return sig;
      } };
      await expect(buildCrl({ certificate: ca.certificate, signer: flipping }, [], { thisUpdate: new Date(), nextUpdate: new Date(Date.now() + 86_400_000), crlNumber: 1 })).rejects.toThrow(/does not verify/);
    });
  });
});

describe('a CA whose key is in the token', () => {
  it('creates the CA, issues from an openssl req CSR that openssl verify accepts, and signs a CRL openssl verifies', async () => {
    await withToken(async (s) => {
      await generateTokenKey(s, { label: 'org-ca', algorithm: 'p-384' });
      const signer = tokenSigner(s, { label: 'org-ca' });
      const ca = await createCa({ subject: { commonName: 'Token CA', organization: 'Example' }, keyAlgorithm: 'p-384', validityDays: 365, signer });
      expect(ca.privateKey).toBeUndefined();
      const req = run(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', t.path('alice.key'), '-subj', '/CN=Alice/emailAddress=alice@example.test', '-out', t.path('alice.csr')]);
      expect(req.status).toBe(0);
      const leaf = await issueFromCsr(ca, readFileSync(t.path('alice.csr'), 'latin1'), { email: 'alice@example.test', validityDays: 30 });
      const v = verifyLeaf(t, ca.certificatePem, leaf.certificatePem, ['-purpose', 'smimesign']);
      expect(v.out).toContain('OK');
      expect(v.status).toBe(0);
      const now = new Date();
      const { crlPem } = await buildCrl(ca, [{ serial: leaf.serial, at: now }], { thisUpdate: now, nextUpdate: new Date(now.getTime() + 86_400_000), crlNumber: 7 });
      const crlFile = t.put('token.crl.pem', crlPem);
      const c = run(['crl', '-in', crlFile, '-CAfile', t.put('token-ca.pem', ca.certificatePem), '-verify', '-noout']);
      expect(c.stderr).toContain('verify OK');
      const revoked = verifyLeaf(t, ca.certificatePem, leaf.certificatePem, ['-crl_check', '-CRLfile', crlFile]);
      expect(revoked.status).not.toBe(0);
      expect(revoked.out).toContain('certificate revoked');
    });
  });
});

describe('the key cannot leave the token', () => {
  const pkcs11 = createRequire(import.meta.url)('pkcs11js') as typeof P11;

  /** The PKCS#11 API directly, as any other program on the machine could use it, with the PIN. */
  function raw<T>(f: (p11: P11.PKCS11, session: Buffer) => T): T {
    const p11 = new pkcs11.PKCS11();
    p11.load(SOFTHSM_MODULE);
    p11.C_Initialize();
    try {
      const slot = p11.C_GetSlotList(true).find((sl) => p11.C_GetTokenInfo(sl).label.trim() === TOKEN)!;
      const session = p11.C_OpenSession(slot, pkcs11.CKF_SERIAL_SESSION | pkcs11.CKF_RW_SESSION);
      p11.C_Login(session, pkcs11.CKU_USER, PIN);
      return f(p11, session);
    } finally {
      p11.C_Finalize();
      p11.close();
    }
  }

  function privateKey(p11: P11.PKCS11, session: Buffer, label: string): Buffer {
    p11.C_FindObjectsInit(session, [{ type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PRIVATE_KEY }, { type: pkcs11.CKA_LABEL, value: label }]);
    const found = p11.C_FindObjects(session, 2);
    p11.C_FindObjectsFinal(session);
    expect(found).toHaveLength(1);
    return found[0]!;
  }

  const codeOf = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      return (e as Error).message;
    }
    return 'no error';
  };

  const spkis = new Map<string, Buffer>();
  beforeAll(async () => {
    await withToken(async (s) => {
      spkis.set('locked-rsa', Buffer.from((await generateTokenKey(s, { label: 'locked-rsa', algorithm: 'rsa-3072' })).publicKeySpki));
      spkis.set('locked-ec', Buffer.from((await generateTokenKey(s, { label: 'locked-ec', algorithm: 'p-256' })).publicKeySpki));
    });
    // A control: a key pair the token lets out, made as a careless tool would.
    raw((p11, session) => {
      p11.C_GenerateKeyPair(session, { mechanism: pkcs11.CKM_EC_KEY_PAIR_GEN }, [
        { type: pkcs11.CKA_TOKEN, value: true },
        { type: pkcs11.CKA_LABEL, value: 'exportable' },
        { type: pkcs11.CKA_VERIFY, value: true },
        { type: pkcs11.CKA_EC_PARAMS, value: Buffer.from('06082a8648ce3d030107', 'hex') },
      ], [
        { type: pkcs11.CKA_TOKEN, value: true },
        { type: pkcs11.CKA_PRIVATE, value: true },
        { type: pkcs11.CKA_LABEL, value: 'exportable' },
        { type: pkcs11.CKA_SIGN, value: true },
        { type: pkcs11.CKA_SENSITIVE, value: false },
        { type: pkcs11.CKA_EXTRACTABLE, value: true },
      ]);
    });
  });

  it('C_GetAttributeValue of the secret parts fails with CKR_ATTRIBUTE_SENSITIVE; the key is sensitive, never extractable', () => {
    raw((p11, session) => {
      const rsa = privateKey(p11, session, 'locked-rsa');
      for (const type of [pkcs11.CKA_PRIVATE_EXPONENT, pkcs11.CKA_PRIME_1, pkcs11.CKA_PRIME_2, pkcs11.CKA_EXPONENT_1, pkcs11.CKA_COEFFICIENT]) {
        expect(codeOf(() => p11.C_GetAttributeValue(session, rsa, [{ type }]))).toBe('CKR_ATTRIBUTE_SENSITIVE');
      }
      const ec = privateKey(p11, session, 'locked-ec');
      expect(codeOf(() => p11.C_GetAttributeValue(session, ec, [{ type: pkcs11.CKA_VALUE }]))).toBe('CKR_ATTRIBUTE_SENSITIVE');
      for (const key of [rsa, ec]) {
        const [sensitive, extractable, always, never, token, priv] = p11
          .C_GetAttributeValue(session, key, [pkcs11.CKA_SENSITIVE, pkcs11.CKA_EXTRACTABLE, pkcs11.CKA_ALWAYS_SENSITIVE, pkcs11.CKA_NEVER_EXTRACTABLE, pkcs11.CKA_TOKEN, pkcs11.CKA_PRIVATE].map((type) => ({ type })))
          .map((a) => a.value[0] === 1);
        expect({ sensitive, extractable, always, never, token, priv }).toEqual({ sensitive: true, extractable: false, always: true, never: true, token: true, priv: true });
        // CKA_EXTRACTABLE can only ever be turned off (PKCS#11 §4.9): turning it on is refused.
        expect(codeOf(() => p11.C_SetAttributeValue(session, key, [{ type: pkcs11.CKA_EXTRACTABLE, value: true }]))).toMatch(/^CKR_/);
        expect(p11.C_GetAttributeValue(session, key, [{ type: pkcs11.CKA_EXTRACTABLE }])[0]!.value[0]).toBe(0);
      }
    });
  });

  it('C_WrapKey fails for the CA keys, while the same wrapping key wraps an extractable key (the control)', () => {
    raw((p11, session) => {
      const wrapping = p11.C_GenerateKey(session, { mechanism: pkcs11.CKM_AES_KEY_GEN }, [
        { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_SECRET_KEY },
        { type: pkcs11.CKA_TOKEN, value: false },
        { type: pkcs11.CKA_VALUE_LEN, value: 32 },
        { type: pkcs11.CKA_WRAP, value: true },
      ]);
      const mechanism = { mechanism: pkcs11.CKM_AES_KEY_WRAP_PAD };
      const control = privateKey(p11, session, 'exportable');
      expect(p11.C_WrapKey(session, mechanism, wrapping, control, Buffer.alloc(8192)).length).toBeGreaterThan(32);
      for (const label of ['locked-rsa', 'locked-ec']) {
        const key = privateKey(p11, session, label);
        expect(codeOf(() => p11.C_WrapKey(session, mechanism, wrapping, key, Buffer.alloc(8192)))).toBe('CKR_KEY_UNEXTRACTABLE');
      }
    });
  });

  it('pkcs11-tool reports the keys sensitive and never extractable, and --read-object writes nothing', () => {
    const list = hsm.pkcs11Tool(['--token-label', TOKEN, '--login', '--pin', PIN, '--list-objects', '--type', 'privkey']);
    expect(list.status).toBe(0);
    const access = (label: string) => new RegExp(`label:\\s+${label}\\n(?:.*\\n)*?\\s+Access:\\s+([^\\n]*)`).exec(list.out)?.[1];
    for (const label of ['locked-rsa', 'locked-ec']) {
      expect(access(label)).toBe('sensitive, always sensitive, never extractable, local');
      const out = t.path(`${label}.priv`);
      const read = hsm.pkcs11Tool(['--token-label', TOKEN, '--login', '--pin', PIN, '--read-object', '--type', 'privkey', '--label', label, '--output-file', out]);
      expect(read.out).not.toMatch(/BEGIN|PRIVATE KEY/);
      expect(existsSync(out)).toBe(false);
      // It does read the public half, which is the signer's.
      const pub = hsm.pkcs11Tool(['--token-label', TOKEN, '--login', '--pin', PIN, '--read-object', '--type', 'pubkey', '--label', label, '--output-file', t.path(`${label}.pub`)]);
      expect(pub.status).toBe(0);
      expect(run(['pkey', '-pubin', '-inform', 'DER', '-in', t.path(`${label}.pub`), '-noout']).status).toBe(0);
      expect(readFileSync(t.path(`${label}.pub`)).equals(spkis.get(label)!)).toBe(true);
    }
    // The control key, made extractable and not sensitive, is listed as such.
    expect(access('exportable')).not.toContain('never extractable');
  });

  it('tokenSigner refuses a key the token would let out', async () => {
    await withToken(async (s) => {
      expect(() => tokenSigner(s, { label: 'exportable' })).toThrow(/can be exported.*CKA_SENSITIVE false, CKA_EXTRACTABLE true/);
    });
  });
});
