import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TempDir, openssl, run, tempDir, verifyLeaf } from '../../../test/crypto/ca/support.js';
import { CaError, type CreatedCa, buildCrl, createCa, issueWithKey } from './index.js';

let t: TempDir;
let ca: CreatedCa;
beforeAll(async () => {
  t = tempDir();
  ca = await createCa({ subject: 'postern CRL CA', keyAlgorithm: 'rsa-3072', validityDays: 365 });
});
afterAll(() => t.cleanup());

const DAY = 86_400_000;

describe('buildCrl', () => {
  it('OpenSSL verifies the CRL and, with -crl_check, rejects the revoked certificate but not the others', async () => {
    const revoked = await issueWithKey(ca, { email: 'gone@example.test', keyAlgorithm: 'p-256', validityDays: 30 });
    const kept = await issueWithKey(ca, { email: 'kept@example.test', keyAlgorithm: 'p-256', validityDays: 30 });
    const now = new Date();
    const { crl, crlPem } = await buildCrl(ca, [
      { serial: revoked.serial, at: new Date(now.getTime() - 60_000), reason: 'keyCompromise' },
      { serial: 0x0abcdefn, at: now },
    ], { thisUpdate: new Date(now.getTime() - 60_000), nextUpdate: new Date(now.getTime() + 7 * DAY), crlNumber: 42 });
    const caFile = t.put('ca.pem', ca.certificatePem);
    const crlFile = t.put('crl.pem', crlPem);
    const check = run(['crl', '-in', crlFile, '-CAfile', caFile, '-verify', '-noout', '-text']);
    expect(check.status).toBe(0);
    expect(check.stderr).toContain('verify OK');
    expect(check.stdout).toContain('Version 2 (0x1)');
    expect(check.stdout).toMatch(/X509v3 CRL Number:\s+42/);
    expect(check.stdout).toContain('X509v3 Authority Key Identifier');
    expect(check.stdout).toContain(`Serial Number: ${revoked.serial}`);
    expect(check.stdout).toMatch(/CRL Reason Code:\s+Key Compromise/);
    expect(check.stdout).toMatch(/Serial Number: 0?ABCDEF\n/);
    // DER as given and PEM agree.
    expect(openssl(['crl', '-in', crlFile, '-outform', 'DER']).equals(Buffer.from(crl))).toBe(true);

    const bad = verifyLeaf(t, ca.certificatePem, revoked.certificatePem, ['-crl_check', '-CRLfile', crlFile]);
    expect(bad.status).not.toBe(0);
    expect(bad.out).toContain('certificate revoked');
    expect(verifyLeaf(t, ca.certificatePem, kept.certificatePem, ['-crl_check', '-CRLfile', crlFile]).status).toBe(0);
  });

  it('an empty CRL is valid and omits the revoked list; a changed byte breaks its signature', async () => {
    const { crl, crlPem } = await buildCrl(ca, [], { thisUpdate: new Date(), nextUpdate: new Date(Date.now() + DAY), crlNumber: 0n });
    expect(run(['crl', '-in', t.put('empty.pem', crlPem), '-CAfile', t.put('ca2.pem', ca.certificatePem), '-verify', '-noout']).status).toBe(0);
    expect(run(['crl', '-in', t.path('empty.pem'), '-noout', '-text']).stdout).toContain('No Revoked Certificates');
    const changed = Buffer.from(crl);
    changed[changed.length - 5]! ^= 0x01; // inside the signature, which ends the structure
    const r = run(['crl', '-inform', 'DER', '-in', t.put('changed.der', changed), '-CAfile', t.path('ca2.pem'), '-verify', '-noout']);
    expect(r.stderr).not.toContain('verify OK');
    expect(r.stderr).toMatch(/verify fail/i);
  });

  it('refuses bad dates, numbers and serials', async () => {
    const at = new Date();
    await expect(buildCrl(ca, [], { thisUpdate: at, nextUpdate: at, crlNumber: 1 })).rejects.toThrow(/after thisUpdate/);
    await expect(buildCrl(ca, [], { thisUpdate: at, nextUpdate: new Date(Number.NaN), crlNumber: 1 })).rejects.toThrow(/not a date/);
    await expect(buildCrl(ca, [], { thisUpdate: at, nextUpdate: new Date(Date.UTC(10000, 0, 1)), crlNumber: 1 })).rejects.toThrow(/9999/);
    await expect(buildCrl(ca, [], { thisUpdate: at, nextUpdate: new Date(at.getTime() + DAY), crlNumber: -1 })).rejects.toThrow(/crlNumber/);
    await expect(buildCrl(ca, [], { thisUpdate: at, nextUpdate: new Date(at.getTime() + DAY), crlNumber: 2n ** 200n })).rejects.toThrow(CaError);
    await expect(buildCrl(ca, [{ serial: 'xyz', at }], { thisUpdate: at, nextUpdate: new Date(at.getTime() + DAY), crlNumber: 1 })).rejects.toThrow(/hex/);
    await expect(buildCrl(ca, [{ serial: 1n, at, reason: 'bored' as never }], { thisUpdate: at, nextUpdate: new Date(at.getTime() + DAY), crlNumber: 1 })).rejects.toThrow(/reason/);
  });
});
