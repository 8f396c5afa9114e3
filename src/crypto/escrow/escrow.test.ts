import { createHash, createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TempDir, openssl, tempDir } from '../../../test/crypto/ca/support.js';
import { EscrowError, type EscrowRecord, escrowKey, exportRequestPublicKey, importRequestPublicKey, newRequestKey, openProtectedKey, openShare, parseEscrowRecord, protectKey, recoverKey, sealShare, unsealShare } from './index.js';

interface Officer {
  address: string;
  certificateDer: Uint8Array;
  key: KeyObject;
  keyFile: string;
}

let t: TempDir;
let officers: Officer[];
let userKey: Uint8Array;
const FP = 'ab'.repeat(32);

/** A self-signed certificate and key from the openssl CLI: RSA for some officers, P-256 for one. */
function makeOfficer(name: string, newkey: string): Officer {
  const keyFile = t.path(`${name}.key`);
  openssl(['req', '-x509', '-newkey', newkey, '-nodes', '-keyout', keyFile, '-subj', `/CN=${name}`, '-days', '2', '-outform', 'DER', '-out', t.path(`${name}.der`)]);
  return { address: `${name}@example.test`, certificateDer: new Uint8Array(readFileSync(t.path(`${name}.der`))), key: createPrivateKey(readFileSync(keyFile)), keyFile };
}

async function shareOf(rec: EscrowRecord, i: number): Promise<Uint8Array> {
  const o = officers[i]!;
  return openShare(Buffer.from(rec.shares[i]!.envelope, 'base64'), o.certificateDer, o.key, rec.certFingerprint);
}

beforeAll(() => {
  t = tempDir();
  officers = [makeOfficer('o1', 'rsa:2048'), makeOfficer('o2', 'ec:' + t.put('p256.pem', openssl(['ecparam', '-name', 'prime256v1']))), makeOfficer('o3', 'rsa:2048'), makeOfficer('o4', 'rsa:2048')];
  userKey = new Uint8Array(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'der' }));
}, 60_000);
afterAll(() => t?.cleanup());

describe('escrowKey and recoverKey', () => {
  it('any M of N shares recover the key; M-1 recover nothing, with a clear error', async () => {
    const rec = await escrowKey(userKey, FP, officers, 3);
    expect(parseEscrowRecord(JSON.parse(JSON.stringify(rec)))).toEqual(rec);
    expect(JSON.stringify(rec)).not.toContain(Buffer.from(userKey).toString('base64').slice(0, 40));
    const shares = await Promise.all(officers.map((_, i) => shareOf(rec, i)));
    for (const pick of [[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3], [3, 1, 0], [0, 1, 2, 3]]) {
      expect(Buffer.from(await recoverKey(rec, pick.map((i) => shares[i]!)))).toEqual(Buffer.from(userKey));
    }
    for (const pick of [[0, 1], [2, 3], [1], []]) {
      await expect(recoverKey(rec, pick.map((i) => shares[i]!))).rejects.toThrow(/not enough shares: \d of 3; nothing recovered/);
    }
    // The same share twice counts once.
    await expect(recoverKey(rec, [shares[0]!, shares[0]!, shares[1]!])).rejects.toThrow('not enough shares: 2 of 3');
  });

  it('M-1 shares padded with a made-up share are refused by GCM, never a wrong key', async () => {
    const rec = await escrowKey(userKey, FP, officers.slice(0, 3), 2);
    const s0 = await shareOf(rec, 0);
    const fake = new Uint8Array(33).fill(7);
    fake[32] = (s0[32]! % 255) + 1; // another x coordinate than s0's
    await expect(recoverKey(rec, [s0, fake])).rejects.toThrow(/do not reassemble the escrow key/);
  });

  it('a changed share, ciphertext, tag or certificate binding fails', async () => {
    const rec = await escrowKey(userKey, FP, officers.slice(0, 3), 2);
    const [s0, s1] = [await shareOf(rec, 0), await shareOf(rec, 1)];
    const bad = Uint8Array.from(s1);
    bad[5]! ^= 1;
    await expect(recoverKey(rec, [s0, bad])).rejects.toThrow(EscrowError);
    const flip = (b64: string) => {
      const b = Buffer.from(b64, 'base64');
      b[0]! ^= 1;
      return b.toString('base64');
    };
    await expect(recoverKey({ ...rec, ciphertext: flip(rec.ciphertext) }, [s0, s1])).rejects.toThrow(/nothing recovered/);
    await expect(recoverKey({ ...rec, tag: flip(rec.tag) }, [s0, s1])).rejects.toThrow(/nothing recovered/);
    // The AAD binds the certificate: the same ciphertext under another fingerprint does not open.
    await expect(recoverKey({ ...rec, certFingerprint: 'cd'.repeat(32) }, [s0, s1])).rejects.toThrow(/nothing recovered/);
    // A changed share envelope does not open.
    const env = Buffer.from(rec.shares[0]!.envelope, 'base64');
    env[env.length - 3]! ^= 1;
    expect(() => openShare(env, officers[0]!.certificateDer, officers[0]!.key, FP)).toThrow(/does not open/);
    // Another officer's key does not open a share, nor does a share of another record count.
    expect(() => openShare(Buffer.from(rec.shares[0]!.envelope, 'base64'), officers[2]!.certificateDer, officers[2]!.key, FP)).toThrow(/does not open/);
    expect(() => openShare(Buffer.from(rec.shares[0]!.envelope, 'base64'), officers[0]!.certificateDer, officers[0]!.key, 'cd'.repeat(32))).toThrow(/another escrowed certificate/);
    // Each record has its own escrow key: shares of one do not open another.
    const other = await escrowKey(userKey, FP, officers.slice(0, 3), 2);
    await expect(recoverKey(other, [s0, s1])).rejects.toThrow(/nothing recovered/);
  });

  it('refuses bad arguments and malformed records with errors that name the problem', async () => {
    await expect(escrowKey(userKey, FP, officers.slice(0, 1), 1)).rejects.toThrow(/2 to 64 officers/);
    await expect(escrowKey(userKey, FP, officers, 5)).rejects.toThrow(/threshold/);
    await expect(escrowKey(userKey, FP, officers, 1)).rejects.toThrow(/threshold/);
    await expect(escrowKey(userKey, 'nope', officers, 2)).rejects.toThrow(/fingerprint/);
    await expect(escrowKey(userKey, FP, [officers[0]!, officers[0]!], 2)).rejects.toThrow(/listed once/);
    await expect(escrowKey(userKey, FP, [officers[0]!, { address: 'x@y', certificateDer: new Uint8Array([1, 2, 3]) }], 2)).rejects.toThrow(/x@y: not a certificate/);
    const rec = await escrowKey(userKey, FP, officers.slice(0, 2), 2);
    expect(() => parseEscrowRecord('{')).toThrow('escrow record: not JSON');
    expect(() => parseEscrowRecord({ ...rec, v: 2 })).toThrow(/escrow record: v:/);
    expect(() => parseEscrowRecord({ ...rec, threshold: 3 })).toThrow(/exceeds its 2 shares/);
    expect(() => parseEscrowRecord({ ...rec, nonce: 'not base64!' })).toThrow(/nonce/);
    expect(() => parseEscrowRecord({ ...rec, shares: [rec.shares[0], rec.shares[0]] })).toThrow(/two shares/);
    await expect(recoverKey(rec, [new Uint8Array(10), new Uint8Array(10)])).rejects.toThrow(/a share is 33 bytes/);
  });

  it('a share envelope opens with openssl cms -decrypt and the officer key', async () => {
    const rec = await escrowKey(userKey, FP, officers.slice(0, 2), 2);
    for (const i of [0, 1]) {
      const out = openssl(['cms', '-decrypt', '-inform', 'DER', '-in', t.put(`share${i}.der`, Buffer.from(rec.shares[i]!.envelope, 'base64')), '-inkey', officers[i]!.keyFile]).toString('utf8');
      const content = JSON.parse(out) as { postern: string; certFingerprint: string; share: string };
      expect(content).toMatchObject({ postern: 'escrow-share', certFingerprint: FP });
      expect(Buffer.from(content.share, 'base64')).toEqual(Buffer.from(await shareOf(rec, i)));
    }
    expect(rec.shares[0]!.certFingerprint).toBe(createHash('sha256').update(officers[0]!.certificateDer).digest('hex'));
  });
});

describe('sealShare and the request key', () => {
  it('a sealed share unseals with the request key and the same context only', () => {
    const req = newRequestKey();
    const pub = importRequestPublicKey(exportRequestPublicKey(req.publicKey));
    const share = new Uint8Array(33).map((_, i) => i);
    const sealed = sealShare(share, pub, 'req-1\no1@example.test');
    expect(Buffer.from(unsealShare(JSON.parse(JSON.stringify(sealed)), req.privateKey, 'req-1\no1@example.test'))).toEqual(Buffer.from(share));
    expect(() => unsealShare(sealed, req.privateKey, 'req-2\no1@example.test')).toThrow(/authentication failed/);
    expect(() => unsealShare(sealed, newRequestKey().privateKey, 'req-1\no1@example.test')).toThrow(/authentication failed/);
    const ct = Buffer.from(sealed.ciphertext, 'base64');
    ct[0]! ^= 1;
    expect(() => unsealShare({ ...sealed, ciphertext: ct.toString('base64') }, req.privateKey, 'req-1\no1@example.test')).toThrow(/authentication failed/);
    expect(() => unsealShare({ ...sealed, epk: Buffer.alloc(65, 4).toString('base64') }, req.privateKey, 'x')).toThrow(/not on the curve/);
    expect(() => unsealShare({ alg: 'rsa' }, req.privateKey, 'x')).toThrow(/sealed share: alg/);
    expect(() => importRequestPublicKey(Buffer.from('junk').toString('base64'))).toThrow(/not an SPKI/);
  });

  it('the request key is kept under a passphrase; a wrong one is refused', () => {
    const req = newRequestKey();
    const p = protectKey(req.privateKey, 'a long recovery passphrase');
    const back = openProtectedKey(JSON.parse(JSON.stringify(p)), 'a long recovery passphrase');
    expect(back.export({ type: 'pkcs8', format: 'der' })).toEqual(req.privateKey.export({ type: 'pkcs8', format: 'der' }));
    expect(() => openProtectedKey(p, 'another passphrase')).toThrow(/wrong passphrase/);
    expect(() => openProtectedKey({ ...p, logN: 40 }, 'x')).toThrow(/protected key: logN/);
  });
});
