/**
 * The DLP action "encrypt": the verdict for each outcome (every recipient has
 * a certificate, already encrypted, the hold and reject fallbacks, stronger
 * actions winning), the stage's certificate look-up against a real store
 * (SQLite, certificates made with the openssl CLI) and its bounds, and the
 * stage through a real worker pool (run npm run build first).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { X509Certificate, createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../../store/index.js';
import type { CertificateRepo, Store, StoredCertificate } from '../../store/types.js';
import { makePki, type Pki } from '../../../test/support/smime-pki.js';
import type { MessageEnvelope } from '../pipeline/stage.js';
import { PolicyPool } from '../pool/index.js';
import type { Attribution } from './attribution.js';
import { DEFAULT_CONTENT_LIMITS } from './extract/index.js';
import { buildRules } from './rules/load.js';
import { dlpStage, encryptionFacts, MAX_CERTIFICATES_PER_RECIPIENT, MAX_ENCRYPT_RECIPIENTS } from './stage.js';
import { dlpVerdict, encryptRules, type EncryptionFacts } from './stage-verdict.js';
import type { Classification, RuleMatch } from './types.js';

const RULES = buildRules(
  `version = 1
subject_tag = "[Confidential]"
unscannable_rule = ""
[detectors.cards]
type = "credit_card"
[detectors.iban]
type = "iban"
[detectors.labels]
type = "label"
headers = [{ name = "X-Classification", values = ["confidential"] }]
[detectors.secret]
type = "label"
headers = [{ name = "X-Classification", values = ["secret"] }]

[[rules]]
name = "payment-cards"
detectors = ["cards"]
outbound = ["encrypt", "tag"]
internal = ["encrypt"]
notify = ["sender"]
[[rules]]
name = "banking"
detectors = ["iban"]
outbound = ["encrypt", "require_tls"]
encrypt_fallback = "reject"
[[rules]]
name = "classified"
detectors = ["labels"]
outbound = ["hold"]
[[rules]]
name = "secret"
detectors = ["secret"]
outbound = ["reject"]
`,
  [],
);

const CERT = new Uint8Array([0x30, 0x01, 0x00]);
const match = (rule: string, detector = 'cards'): RuleMatch => ({ rule, confidence: 'medium', detectors: [{ detector, count: 1, confidence: 'medium', samples: [{ masked: '4111 **** **** 1111', source: 'body:1' }] }] });
const classified = (matches: RuleMatch[]): Classification => ({ matches, nearMisses: [], findings: [], encrypted: false, chars: 10, ms: 1 });
const alice: Attribution = { sender: 'alice@example.test', groups: [], destinations: [{ domain: 'outside.test', class: 'external' }], widest: 'external' };
const verdict = (matches: RuleMatch[], encryption?: EncryptionFacts, phase: 'inline' | 'after-queue' = 'inline') =>
  dlpVerdict({ classification: classified(matches), rules: RULES, direction: 'outbound', phase, attribution: alice, queueId: 'Q1', recipients: ['y@outside.test', 'z@outside.test'], ...(encryption ? { encryption } : {}) });
const without = (...r: string[]): EncryptionFacts => ({ kind: 'unavailable', why: `no valid certificate is known for ${r.join(', ')}`, recipients: r });

describe('dlpVerdict: encrypt', () => {
  it('asks the pipeline to encrypt to every certificate, says so in X-Postern-DLP, and counts dlp.encrypt encrypted', () => {
    const v = verdict([match('payment-cards')], { kind: 'certificates', certs: [CERT], recipients: 2 });
    expect(v.action).toBe('tag');
    expect(v.encryptTo).toEqual([CERT]);
    expect(v.headers).toEqual([['X-Postern-DLP', 'payment-cards; encrypted (rule payment-cards)']]);
    expect(v.subjectTag).toBe('[Confidential]');
    expect(v.facts).toMatchObject({ dlp_encrypt: 'encrypted' });
    expect(v.events).toContainEqual({ kind: 'dlp.encrypt', labels: { direction: 'outbound', result: 'encrypted' }, data: { rules: ['payment-cards'], recipients: 2, certificates: 1 } });
    expect(v.events).toContainEqual({ kind: 'dlp.message', labels: { direction: 'outbound', result: 'confidential', action: 'encrypt' } });
    expect(v.notices?.[0]).toMatchObject({ to: 'alice@example.test', subject: 'Your message was sent encrypted' });
  });

  it('lets an already encrypted message pass as it is', () => {
    const v = verdict([match('payment-cards')], { kind: 'already' });
    expect(v.encryptTo).toBeUndefined();
    expect(v.headers).toEqual([['X-Postern-DLP', 'payment-cards']]); // the tag the rule asks for, nothing about encryption
    expect(v.events).toContainEqual({ kind: 'dlp.encrypt', labels: { direction: 'outbound', result: 'already' }, data: { rules: ['payment-cards'] } });
    const noTag = verdict([match('banking', 'iban')], { kind: 'already' });
    expect(noTag).toMatchObject({ action: 'pass', headers: [['X-Postern-DLP-TLS', 'required']] });
    expect(noTag.encryptTo).toBeUndefined();
  });

  it('falls back to hold, naming the recipients without a certificate, and tells the sender why', () => {
    const v = verdict([match('payment-cards')], without('z@outside.test'));
    expect(v.action).toBe('hold');
    expect(v.encryptTo).toBeUndefined();
    expect(v.reasons[0]).toEqual({ rule: 'payment-cards', detail: 'cannot encrypt (rule payment-cards): no valid certificate is known for z@outside.test' });
    expect(v.events).toContainEqual(expect.objectContaining({ kind: 'dlp.encrypt', labels: { direction: 'outbound', result: 'fallback_hold' } }));
    expect(v.events).toContainEqual({ kind: 'dlp.message', labels: { direction: 'outbound', result: 'confidential', action: 'hold' } });
    expect(v.notices?.[0]?.subject).toBe('Your message is held: it contains confidential data');
    expect(v.notices?.[0]?.text).toContain('It had to be sent encrypted, but no valid certificate is known for z@outside.test.');
  });

  it('falls back to reject with a clear 550 text when a rule says so (reject wins over hold among the rules)', () => {
    const v = verdict([match('payment-cards'), match('banking', 'iban')], without('y@outside.test', 'z@outside.test'));
    expect(v.action).toBe('reject');
    expect(v.reply).toBe(
      '5.7.1 Message refused: it contains confidential data that must be sent encrypted (rules payment-cards, banking), and no valid certificate is known for y@outside.test, z@outside.test. Ask your administrator.',
    );
    expect(v.events).toContainEqual(expect.objectContaining({ kind: 'dlp.encrypt', labels: { direction: 'outbound', result: 'fallback_reject' } }));
    expect(v.encryptTo).toBeUndefined();
  });

  it('falls back when the certificates were not looked up: never a pass without encryption', () => {
    const v = verdict([match('payment-cards')]);
    expect(v.action).toBe('hold');
    expect(v.reasons[0]?.detail).toBe('cannot encrypt (rule payment-cards): the certificates were not looked up');
    expect(verdict([match('banking', 'iban')]).action).toBe('reject');
  });

  it('does not look up certificates when hold or reject is stronger, nor when no rule asks to encrypt', () => {
    expect(encryptRules(classified([match('payment-cards'), match('classified', 'labels')]), RULES, 'outbound')).toEqual([]);
    expect(encryptRules(classified([match('payment-cards'), match('secret', 'secret')]), RULES, 'outbound')).toEqual([]);
    expect(encryptRules(classified([match('payment-cards')]), RULES, 'inbound')).toEqual([]);
    expect(encryptRules(classified([match('payment-cards'), match('banking', 'iban')]), RULES, 'outbound')).toEqual(['payment-cards', 'banking']);
    expect(encryptRules(classified([match('payment-cards')]), RULES, 'internal')).toEqual(['payment-cards']);
    expect(verdict([match('payment-cards'), match('classified', 'labels')]).action).toBe('hold');
  });
});

describe('encryptionFacts', () => {
  let pki: Pki;
  let store: Store;
  let dir: string;
  const never = new AbortController().signal;
  const CLEAR = new TextEncoder().encode('From: alice@example.test\r\nSubject: x\r\n\r\ncard 4111 1111 1111 1111\r\n');

  beforeAll(async () => {
    pki = makePki();
    dir = mkdtempSync(path.join(tmpdir(), 'postern-dlp-encrypt-'));
    store = await openStore({ backend: 'sqlite', dataDir: dir });
    for (const party of [pki.rsa, pki.p256]) {
      const x = new X509Certificate(party.certPem);
      await store.meta.certificates.put({ address: party.email, der: new Uint8Array(x.raw), fingerprint: createHash('sha256').update(x.raw).digest('hex'), source: 'uploaded', notBefore: Date.parse(x.validFrom), notAfter: Date.parse(x.validTo) }, Date.now());
    }
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    pki?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('finds every recipient’s certificate in the store (case-insensitive, each once), or names who has none', async () => {
    const ok = await encryptionFacts(CLEAR, [pki.rsa.email, pki.p256.email.toUpperCase(), pki.rsa.email], store.meta.certificates, Date.now(), never);
    expect(ok).toMatchObject({ kind: 'certificates', recipients: 2 });
    expect(ok.kind === 'certificates' && ok.certs.length).toBe(2);
    const missing = await encryptionFacts(CLEAR, [pki.rsa.email, 'nobody@outside.test'], store.meta.certificates, Date.now(), never);
    expect(missing).toEqual({ kind: 'unavailable', why: 'no valid certificate is known for nobody@outside.test', recipients: ['nobody@outside.test'] });
    // Expired by the time of the message: not usable.
    const later = await encryptionFacts(CLEAR, [pki.rsa.email], store.meta.certificates, Date.now() + 100 * 365 * 86_400_000, never);
    expect(later.kind).toBe('unavailable');
  });

  it('says "already" for S/MIME enveloped and PGP/MIME messages without asking the store', async () => {
    const asked: string[] = [];
    const repo: Pick<CertificateRepo, 'valid'> = { valid: async (a) => (asked.push(a), []) };
    for (const ct of ['application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m', 'application/pkcs7-mime; smime-type="authEnveloped-data"', 'multipart/encrypted; protocol="application/pgp-encrypted"; boundary=b']) {
      const raw = new TextEncoder().encode(`From: alice@example.test\r\nMIME-Version: 1.0\r\nContent-Type: ${ct}\r\n\r\nMIIB\r\n`);
      expect(await encryptionFacts(raw, ['y@outside.test'], repo, Date.now(), never)).toEqual({ kind: 'already' });
    }
    // Signed only is readable by anyone: it is not "already encrypted".
    const signed = new TextEncoder().encode('From: a@example.test\r\nContent-Type: application/pkcs7-mime; smime-type=signed-data\r\n\r\nMIIB\r\n');
    expect((await encryptionFacts(signed, ['y@outside.test'], repo, Date.now(), never)).kind).toBe('unavailable');
    expect(asked).toEqual(['y@outside.test']);
  });

  it('is bounded: too many recipients fall back without a look-up, at most a few certificates per recipient, stops when aborted', async () => {
    let calls = 0;
    const cert = (n: number): StoredCertificate => ({ id: n, address: 'x', der: new Uint8Array([n]), fingerprint: `f${n}`, source: 'uploaded', notBefore: 0, notAfter: 1, addedAt: 0, revoked: false });
    const repo: Pick<CertificateRepo, 'valid'> = { valid: async () => (calls++, Array.from({ length: 10 }, (_, i) => cert(i))) };
    const many = Array.from({ length: MAX_ENCRYPT_RECIPIENTS + 1 }, (_, i) => `r${i}@outside.test`);
    expect(await encryptionFacts(CLEAR, many, repo, 0, never)).toEqual({ kind: 'unavailable', why: `it has more than ${MAX_ENCRYPT_RECIPIENTS} recipients`, recipients: [] });
    expect(calls).toBe(0);
    const one = await encryptionFacts(CLEAR, ['a@outside.test'], repo, 0, never);
    expect(one.kind === 'certificates' && one.certs.length).toBe(MAX_CERTIFICATES_PER_RECIPIENT);
    const ac = new AbortController();
    ac.abort(new Error('budget spent'));
    await expect(encryptionFacts(CLEAR, ['a@outside.test'], repo, 0, ac.signal)).rejects.toThrow('budget spent');
    expect(await encryptionFacts(CLEAR, ['a@outside.test'], undefined, 0, never)).toMatchObject({ kind: 'unavailable', why: 'no certificate store is available' });
  });
});

describe('the dlp stage with encrypt, through a real worker pool', () => {
  let pool: PolicyPool;
  beforeAll(() => {
    pool = PolicyPool.open({ threads: 1, maxQueue: 8 });
  });
  afterAll(async () => {
    await pool?.close();
  });

  it('looks up the recipients’ certificates and asks for encryption; a recipient without one falls back', async () => {
    const repo: Pick<CertificateRepo, 'valid'> = {
      valid: async (a) => (a === 'y@outside.test' ? [{ id: 1, address: a, der: CERT, fingerprint: 'f', source: 'uploaded', notBefore: 0, notAfter: 1, addedAt: 0, revoked: false }] : []),
    };
    const stage = dlpStage({ pool, phase: 'inline', directions: ['outbound'], budgetMs: 10_000, limits: DEFAULT_CONTENT_LIMITS, rules: () => RULES, directory: async () => ({ localDomains: new Set(['example.test']), groups: new Map() }), certificates: repo });
    const raw = new TextEncoder().encode('From: alice@example.test\r\nTo: y@outside.test\r\nSubject: order\r\n\r\nPlease charge 4111 1111 1111 1111 today.\r\n');
    const envelope = (recipients: string[]): MessageEnvelope => ({ sender: 'alice@example.test', recipients, helo: 'x', clientAddress: '127.0.0.1', listener: 'submission', authUser: 'alice@example.test', tls: true });
    const run = (recipients: string[]) => stage.run({ queueId: 'Q9', raw, envelope: envelope(recipients), direction: 'outbound', earlier: [] }, { signal: new AbortController().signal, now: Date.now });
    const ok = await run(['y@outside.test']);
    expect(ok).toMatchObject({ action: 'tag', encryptTo: [CERT] });
    const held = await run(['y@outside.test', 'z@outside.test']);
    expect(held.action).toBe('hold');
    expect(held.reasons[0]?.detail).toContain('z@outside.test');
    expect(JSON.stringify(held)).not.toMatch(/4111 ?1111 ?1111 ?1111/);
  }, 30_000);
});
