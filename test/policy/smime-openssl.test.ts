/**
 * The smime stage on messages signed and encrypted by the openssl CLI
 * (test/support/smime-pki.ts), run in a real worker pool: valid detached and
 * opaque signatures (and one level down in multipart/mixed), one changed byte
 * (tampered, tagged), a broken signature value (invalid), anchors that do not
 * match (untrusted), a signer that is not the From address, unsigned and
 * encrypted mail, and what is learned. Needs `npm run build` (the pool runs
 * the compiled worker).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { makePki, openssl, type Party, type Pki } from '../support/smime-pki.js';
import { PolicyPool } from '../../src/policy/pool/index.js';
import { inspectSmime, smimeStage, type SmimeStageOptions } from '../../src/policy/smime/index.js';
import { multipartSigned } from '../../src/crypto/smime/index.js';
import type { StageInput } from '../../src/policy/pipeline/stage.js';
import type { Verdict } from '../../src/core/verdict.js';

let pki: Pki;
let pool: PolicyPool;
const BODY = 'Content-Type: text/plain; charset=utf-8\r\n\r\nThe quarterly figures are attached.\r\nRegards\r\n';

beforeAll(() => {
  pki = makePki();
  pool = PolicyPool.open({ threads: 1, maxQueue: 16 });
}, 60_000);

afterAll(async () => {
  await pool?.close();
  pki?.cleanup();
});

let n = 0;
/** A whole message signed by `p` with openssl cms (detached unless opaque), From as given. */
function signed(p: Party, from = p.email, opts: { opaque?: boolean; body?: string } = {}): Buffer {
  const file = path.join(pki.dir, `body-${n++}.txt`);
  writeFileSync(file, opts.body ?? BODY);
  const args = ['cms', '-sign', '-in', file, '-signer', p.certFile, '-inkey', p.keyFile, '-certfile', pki.interFile, '-from', from, '-to', 'alice@example.test', '-subject', 'figures'];
  return openssl(opts.opaque ? [...args, '-nodetach'] : args);
}

const input = (raw: Uint8Array, direction: StageInput['direction'] = 'inbound'): StageInput => ({
  queueId: 'q1',
  raw,
  direction,
  earlier: [],
  envelope: { sender: 'x@partner.test', recipients: ['alice@example.test'], helo: 'h', clientAddress: '192.0.2.1', listener: 'mx', authUser: null, tls: true },
});

async function check(raw: Uint8Array, over: Partial<SmimeStageOptions> = {}): Promise<{ verdict: Verdict; learned: [string, Uint8Array][] }> {
  const learned: [string, Uint8Array][] = [];
  const stage = smimeStage({
    pool,
    phase: 'after-queue',
    directions: ['inbound', 'internal'],
    budgetMs: 20_000,
    anchorsPem: pki.rootPem,
    onTampered: 'tag',
    onInvalid: 'tag',
    learn: async (a, der) => void learned.push([a, der]),
    ...over,
  });
  const verdict = await stage.run(input(raw), { signal: new AbortController().signal, now: () => Date.now() });
  return { verdict, learned };
}

const header = (v: Verdict) => v.headers.find(([name]) => name === 'X-Postern-SMIME')?.[1];
const event = (v: Verdict, kind: string) => v.events.find((e) => e.kind === kind)?.labels;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const fingerprintOf = (p: Party) => sha256(new Uint8Array(Buffer.from(p.certPem.replace(/-----[^-]+-----|\s/g, ''), 'base64')));

describe('smime stage on openssl-signed mail', () => {
  it('finds a valid detached signature, says so in the header, counts it and learns the signer\'s certificate', async () => {
    const { verdict, learned } = await check(signed(pki.rsa));
    expect(header(verdict)).toBe('valid (signer rsa@example.test)');
    expect(verdict.action).toBe('pass');
    expect(verdict.facts).toEqual({ smime: 'valid' });
    expect(event(verdict, 'smime.message')).toEqual({ signed: 'true', encrypted: 'false', direction: 'inbound' });
    expect(event(verdict, 'smime.signature')).toEqual({ result: 'valid', direction: 'inbound' });
    expect(learned.map(([a]) => a)).toEqual(['rsa@example.test']);
    expect(sha256(learned[0]![1])).toBe(fingerprintOf(pki.rsa));
  });

  it('keeps the verdict when learning fails', async () => {
    const { verdict } = await check(signed(pki.rsa), { learn: async () => { throw new Error('store down'); } });
    expect([verdict.action, header(verdict)]).toEqual(['pass', 'valid (signer rsa@example.test)']);
  });

  it('verifies opaque signed-data (P-256) the same way', async () => {
    const { verdict, learned } = await check(signed(pki.p256, pki.p256.email, { opaque: true }));
    expect(header(verdict)).toBe('valid (signer p256@example.test)');
    expect(sha256(learned[0]![1])).toBe(fingerprintOf(pki.p256));
  });

  it('finds a signed entity one level down in multipart/mixed (a message with a footer added)', async () => {
    const inner = signed(pki.p384).toString('latin1');
    const entity = inner.slice(inner.indexOf('MIME-Version:'));
    const raw = `From: p384@example.test\r\nTo: alice@example.test\r\nSubject: with footer\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="outer"\r\n\r\n--outer\r\n${entity}\r\n--outer\r\nContent-Type: text/plain\r\n\r\nSent through the list.\r\n--outer--\r\n`;
    const { verdict } = await check(Buffer.from(raw, 'latin1'));
    expect(header(verdict)).toBe('valid (signer p384@example.test)');
    expect(inspectSmime(Buffer.from(raw, 'latin1'), pki.rootPem, Date.now()).where).toBe('mixed');
  });

  it('calls one changed byte of the signed text tampered, tags it (or holds it) and counts it', async () => {
    const raw = signed(pki.rsa);
    const at = raw.indexOf('quarterly');
    expect(at).toBeGreaterThan(0);
    raw[at] = 'Q'.charCodeAt(0);
    const { verdict, learned } = await check(raw);
    // The claimed signer is shown; only a valid verdict vouches for it (the certificate is not learned).
    expect(header(verdict)).toBe('tampered (signer rsa@example.test)');
    expect(verdict.action).toBe('tag');
    expect(event(verdict, 'smime.signature')).toEqual({ result: 'tampered', direction: 'inbound' });
    expect(learned).toEqual([]);
    expect((await check(raw, { onTampered: 'quarantine' })).verdict.action).toBe('hold');
    expect((await check(raw, { onTampered: 'pass' })).verdict.action).toBe('pass');
  });

  it('calls a broken signature value invalid', async () => {
    const file = path.join(pki.dir, 'entity.txt');
    writeFileSync(file, BODY);
    const der = new Uint8Array(openssl(['cms', '-sign', '-binary', '-in', file, '-signer', pki.rsa.certFile, '-inkey', pki.rsa.keyFile, '-certfile', pki.interFile, '-outform', 'DER']));
    der[der.length - 10]! ^= 0x01; // inside the RSA signature value, the last field of the SignerInfo
    const raw = Buffer.concat([Buffer.from('From: rsa@example.test\r\nTo: alice@example.test\r\nMIME-Version: 1.0\r\n'), multipartSigned(new Uint8Array(Buffer.from(BODY)), der)]);
    const { verdict } = await check(raw, { onInvalid: 'quarantine' });
    expect(header(verdict)).toBe('invalid (signer rsa@example.test)');
    expect(verdict.action).toBe('hold');
  });

  it('says untrusted when the anchors are another CA, or there are none, and learns nothing', async () => {
    const raw = signed(pki.rsa);
    for (const anchorsPem of [pki.otherRootPem, '']) {
      const { verdict, learned } = await check(raw, { anchorsPem });
      expect(header(verdict)).toBe('untrusted (signer rsa@example.test)');
      expect(verdict.action).toBe('pass');
      expect(event(verdict, 'smime.signature')?.result).toBe('untrusted');
      expect(learned).toEqual([]);
    }
  });

  it('does not let a good signature vouch for another From address', async () => {
    const { verdict, learned } = await check(signed(pki.rsa, 'ceo@example.test'));
    expect(header(verdict)).toBe('untrusted (signer rsa@example.test)');
    expect(verdict.reasons).toEqual([{ rule: 'smime-untrusted', detail: 'signer-mismatch' }]);
    expect(event(verdict, 'smime.signature')?.result).toBe('untrusted');
    expect(learned).toEqual([]);
  });

  it('counts unsigned and encrypted mail with smime.message only, and adds no header', async () => {
    const plain = await check(Buffer.from(`From: a@partner.test\r\nTo: alice@example.test\r\nSubject: hi\r\n\r\nhello\r\n`));
    expect(plain.verdict.headers).toEqual([]);
    expect(plain.verdict.events).toEqual([{ kind: 'smime.message', labels: { signed: 'false', encrypted: 'false', direction: 'inbound' } }]);
    const file = path.join(pki.dir, 'secret.txt');
    writeFileSync(file, BODY);
    for (const cipher of ['-aes-256-gcm', '-aes-256-cbc']) {
      const enc = openssl(['cms', '-encrypt', '-in', file, cipher, '-recip', pki.rsa.certFile, '-from', 'p256@example.test', '-to', 'rsa@example.test', '-subject', 'secret']);
      const { verdict } = await check(enc);
      expect(verdict.headers).toEqual([]);
      expect(verdict.events).toEqual([{ kind: 'smime.message', labels: { signed: 'false', encrypted: 'true', direction: 'inbound' } }]);
    }
  });

  it('calls a signature part that is not CMS malformed', async () => {
    const raw = Buffer.concat([Buffer.from('From: rsa@example.test\r\nMIME-Version: 1.0\r\n'), multipartSigned(new Uint8Array(Buffer.from(BODY)), new Uint8Array(Buffer.from('not a signature at all')))]);
    const { verdict } = await check(raw);
    expect(header(verdict)).toBe('malformed');
    expect(verdict.action).toBe('pass');
    expect(event(verdict, 'smime.signature')?.result).toBe('malformed');
  });

  it('never throws on random or mutated messages', () => {
    const seed = signed(pki.p256);
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 4096 }), fc.array(fc.tuple(fc.nat(seed.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }).map((edits) => {
        const m = new Uint8Array(seed);
        for (const [i, b] of edits) m[i] = b;
        return m;
      })), (raw) => {
        const r = inspectSmime(raw, pki.rootPem, Date.now());
        expect(typeof r.signed).toBe('boolean');
        if (r.signed) expect(['valid', 'tampered', 'invalid', 'untrusted', 'malformed']).toContain(r.status);
        if (r.signerCert) expect(r.status).toBe('valid');
      }),
      { numRuns: 150 },
    );
  });
});
