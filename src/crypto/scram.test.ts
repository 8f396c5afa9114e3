import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ScramExchange, deriveScramKeys, encodeScramKeys, fakeScramKeys, parseScramKeys, serverEndPointHash } from './scram.js';
import { generateSelfSigned } from './selfsigned.js';

// RFC 7677 section 3: user "user", password "pencil".
const V = {
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverNonce: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};

const vectorKeys = () => deriveScramKeys('pencil', Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'), 4096);

/** A client written from RFC 5802 (independent of the server code): the client-final-message. */
function clientFinal(password: string, clientFirstBare: string, serverFirst: string, gs2: string, cb: Buffer = Buffer.alloc(0)): string {
  const attrs = Object.fromEntries(serverFirst.split(',').map((a) => [a[0], a.slice(2)]));
  const sp = pbkdf2Sync(password, Buffer.from(attrs.s!, 'base64'), Number(attrs.i), 32, 'sha256');
  const ck = createHmac('sha256', sp).update('Client Key').digest();
  const sk = createHash('sha256').update(ck).digest();
  const withoutProof = `c=${Buffer.concat([Buffer.from(gs2), cb]).toString('base64')},r=${attrs.r}`;
  const sig = createHmac('sha256', sk).update(`${clientFirstBare},${serverFirst},${withoutProof}`).digest();
  return `${withoutProof},p=${Buffer.from(ck.map((b, i) => b ^ sig[i]!)).toString('base64')}`;
}

describe('SCRAM-SHA-256 (RFC 7677 test vector)', () => {
  it('answers the vector exchange byte for byte', async () => {
    const keys = await vectorKeys();
    const ex = new ScramExchange({ plus: false, bindings: {}, serverNonce: V.serverNonce });
    expect(ex.clientFirst(V.clientFirst)).toEqual({ ok: true, username: 'user' });
    expect(ex.serverFirst(keys)).toBe(V.serverFirst);
    expect(ex.clientFinal(V.clientFinal, keys)).toEqual({ ok: true, serverFinal: V.serverFinal });
  });

  it('refuses the vector proof under another password', async () => {
    const keys = await deriveScramKeys('pencil2', Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'), 4096);
    const ex = new ScramExchange({ plus: false, bindings: {}, serverNonce: V.serverNonce });
    ex.clientFirst(V.clientFirst);
    ex.serverFirst(keys);
    expect(ex.clientFinal(V.clientFinal, keys)).toEqual({ ok: false, error: 'invalid-proof', serverFinal: 'e=invalid-proof' });
  });

  it('stores keys in the RFC 5803 form and reads them back; refuses damaged or out-of-bounds records', async () => {
    const keys = await vectorKeys();
    const text = encodeScramKeys(keys);
    expect(text).toMatch(/^SCRAM-SHA-256\$4096:W22ZaJ0SNY7soEsUEjb6gQ==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/);
    expect(parseScramKeys(text)).toEqual(keys);
    expect(parseScramKeys(text.replace('4096', '1000'))).toBeNull();
    expect(parseScramKeys(text.replace('4096', '9999999'))).toBeNull();
    expect(parseScramKeys(text.slice(0, -3))).toBeNull();
    expect(parseScramKeys(null)).toBeNull();
  });
});

describe('ScramExchange', () => {
  const session = async (opts: ConstructorParameters<typeof ScramExchange>[0], gs2: string, password = 'pencil', cb?: Buffer) => {
    const keys = await deriveScramKeys('pencil', randomBytes(16), 4096);
    const ex = new ScramExchange(opts);
    const first = ex.clientFirst(`${gs2}n=user,r=abcdef`);
    if (!first.ok) return first;
    const sf = ex.serverFirst(keys);
    return ex.clientFinal(clientFinal(password, 'n=user,r=abcdef', sf, gs2, cb), keys);
  };

  it('binds the exchange to tls-exporter data under -PLUS, and fails when the client saw other data', async () => {
    const exporter = randomBytes(32);
    const opts = { plus: true, bindings: { 'tls-exporter': exporter } };
    expect((await session(opts, 'p=tls-exporter,,', 'pencil', exporter)).ok).toBe(true);
    expect(await session(opts, 'p=tls-exporter,,', 'pencil', randomBytes(32))).toMatchObject({ ok: false, error: 'channel-bindings-dont-match' });
  });

  it('refuses binding types the connection cannot give, and -PLUS without binding', async () => {
    const opts = { plus: true, bindings: { 'tls-exporter': randomBytes(32) } };
    expect(await session(opts, 'p=tls-unique,,')).toEqual({ ok: false, error: 'unsupported-channel-binding-type' });
    expect(await session(opts, 'n,,')).toMatchObject({ ok: false });
    expect(await session({ plus: false, bindings: {} }, 'p=tls-exporter,,')).toEqual({ ok: false, error: 'channel-binding-not-supported' });
  });

  it('detects a stripped -PLUS: flag y where the server could bind', async () => {
    expect(await session({ plus: false, bindings: { 'tls-exporter': randomBytes(32) } }, 'y,,')).toEqual({
      ok: false,
      error: 'server-does-support-channel-binding',
    });
    expect((await session({ plus: false, bindings: {} }, 'y,,')).ok).toBe(true);
  });

  it('refuses an authorisation identity for another user, malformed names and extensions', () => {
    const one = (msg: string) => new ScramExchange({ plus: false, bindings: {} }).clientFirst(msg);
    expect(one('n,a=other,n=user,r=abc')).toMatchObject({ ok: false });
    expect(one('n,a=user,n=user,r=abc')).toEqual({ ok: true, username: 'user' });
    expect(one('n,,n=us=2Cer=3D,r=abc')).toEqual({ ok: true, username: 'us,er=' });
    expect(one('n,,n=us=er,r=abc')).toEqual({ ok: false, error: 'invalid-encoding' });
    expect(one('n,,m=ext,n=user,r=abc')).toEqual({ ok: false, error: 'extensions-not-supported' });
    expect(one('garbage')).toMatchObject({ ok: false });
    expect(one(`n,,n=${'u'.repeat(5000)},r=abc`)).toMatchObject({ ok: false });
  });

  it('refuses a replayed or altered nonce and a message out of order', async () => {
    const keys = await vectorKeys();
    const ex = new ScramExchange({ plus: false, bindings: {}, serverNonce: 'other' });
    ex.clientFirst(V.clientFirst);
    ex.serverFirst(keys);
    expect(ex.clientFinal(V.clientFinal, keys)).toMatchObject({ ok: false });
    expect(new ScramExchange({ plus: false, bindings: {} }).clientFinal(V.clientFinal, keys)).toMatchObject({ ok: false });
  });
});

describe('fakeScramKeys', () => {
  it('gives the same salt for the same name and secret, another for another name, and a key no proof matches', () => {
    const secret = randomBytes(32);
    const a = fakeScramKeys(secret, 'nobody@example.org');
    expect(fakeScramKeys(secret, 'nobody@example.org').salt).toEqual(a.salt);
    expect(fakeScramKeys(secret, 'other@example.org').salt).not.toEqual(a.salt);
    expect(a.salt).toHaveLength(16);
    expect(a.iterations).toBe(10_000);
  });
});

describe('serverEndPointHash', () => {
  it('is the SHA-256 of an ECDSA-with-SHA256 certificate', async () => {
    const { certPem } = await generateSelfSigned({ hostname: 'mail.example.org' });
    const der = Buffer.from(certPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    expect(serverEndPointHash(der)).toEqual(createHash('sha256').update(der).digest());
  });
});
