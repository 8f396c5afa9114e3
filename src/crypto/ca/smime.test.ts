import { afterAll, beforeAll, expect, it } from 'vitest';
import { type TempDir, run, tempDir } from '../../../test/crypto/ca/support.js';
import { signData, verifySignedData } from '../smime/index.js';
import { type CreatedCa, createCa, issueWithKey } from './index.js';

// The point of the CA: its certificates sign S/MIME that an independent implementation accepts.
let t: TempDir;
let ca: CreatedCa;
beforeAll(async () => {
  t = tempDir();
  ca = await createCa({ subject: 'postern S/MIME CA', keyAlgorithm: 'p-384', validityDays: 365 });
});
afterAll(() => t.cleanup());

const CONTENT = Buffer.from('Content-Type: text/plain; charset=utf-8\r\n\r\nSigned with a postern certificate.\r\n');

it.each(['rsa-2048', 'p-256', 'p-384'] as const)('a %s certificate issued here signs S/MIME that openssl cms -verify -CAfile ca.pem accepts', async (keyAlgorithm) => {
  const leaf = await issueWithKey(ca, { email: 'dana@example.test', keyAlgorithm, validityDays: 30 });
  for (const detached of [true, false]) {
    const der = signData(CONTENT, { certificate: leaf.certificate, key: leaf.privateKey, detached });
    const args = ['cms', '-verify', '-inform', 'DER', '-in', t.put('sig.der', der), '-CAfile', t.put('ca.pem', ca.certificatePem), '-purpose', 'smimesign', '-binary'];
    const r = run(detached ? [...args, '-content', t.put('content.txt', CONTENT)] : args);
    expect(r.stderr).toContain('Verification successful');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(CONTENT.toString());
    const v = verifySignedData(der, { content: detached ? CONTENT : undefined, anchors: [ca.certificatePem] });
    expect(v.status).toBe('valid');
    expect(v.signer?.email).toBe('dana@example.test');
  }
});
