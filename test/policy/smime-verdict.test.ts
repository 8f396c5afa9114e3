/**
 * The smime stage's decisions without a worker: the status that stands (the
 * From check), the header, the configured actions, the events, the config
 * section and the trust anchors file. Messages signed by a real PKI are in
 * smime-openssl.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decide, readTrustAnchors, smimeVerdict, TrustAnchorsError, type SmimeInspection } from '../../src/policy/smime/index.js';
import { parseConfig } from '../../src/config/load.js';
import { makePki } from '../support/smime-pki.js';

const signer = { email: 'ann@partner.test', subject: 'CN=Ann', fingerprint: 'ab'.repeat(32) };
const signed = (over: Partial<SmimeInspection> = {}): SmimeInspection => ({ signed: true, encrypted: false, status: 'valid', reason: 'ok', signer, from: ['ann@partner.test'], forgedHeader: false, where: 'top', ...over });
const unsigned = (over: Partial<SmimeInspection> = {}): SmimeInspection => ({ signed: false, encrypted: false, from: ['ann@partner.test'], forgedHeader: false, ...over });
const TAG = { onTampered: 'tag', onInvalid: 'tag' } as const;

describe('decide: the status that stands', () => {
  it('keeps valid only when the one From address is the certificate\'s, case aside', () => {
    expect(decide(signed())).toEqual({ status: 'valid', reason: 'ok', signer: 'ann@partner.test', learnFor: 'ann@partner.test' });
    expect(decide(signed({ signer: { ...signer, email: 'Ann@Partner.test' } })).status).toBe('valid');
    expect(decide(signed({ from: ['eve@partner.test'] }))).toEqual({ status: 'untrusted', reason: 'signer-mismatch', signer: 'ann@partner.test' });
    expect(decide(signed({ from: ['ann@partner.test', 'eve@partner.test'] })).reason).toBe('signer-mismatch');
    expect(decide(signed({ from: [] })).reason).toBe('signer-mismatch');
    expect(decide(signed({ signer: { subject: 'CN=no mail', fingerprint: signer.fingerprint } }))).toEqual({ status: 'untrusted', reason: 'signer-mismatch' });
  });

  it('passes the library verdict through for the other statuses and never learns from them', () => {
    for (const status of ['tampered', 'invalid', 'untrusted', 'malformed'] as const) {
      const d = decide(signed({ status, reason: `why ${status}` }));
      expect(d).toEqual({ status, reason: `why ${status}`, signer: 'ann@partner.test' });
    }
    expect(decide(unsigned())).toEqual({ status: 'none', reason: 'not signed' });
    expect(decide(unsigned({ encrypted: true }))).toEqual({ status: 'none', reason: 'encrypted' });
  });

  it('keeps only printable ASCII of the certificate\'s address for the header field', () => {
    const d = decide(signed({ status: 'untrusted', signer: { ...signer, email: 'a b\r\nX-Evil: 1@x.test' } }));
    expect(d.signer).toBe('abX-Evil:1@x.test');
    const v = smimeVerdict(signed({ status: 'untrusted', signer: { ...signer, email: 'a\u0000\u00e9@x.test' } }), 'inbound', TAG);
    expect(v.headers).toEqual([['X-Postern-SMIME', 'untrusted (signer a@x.test)']]);
  });
});

describe('smimeVerdict', () => {
  it('maps on_tampered and on_invalid to tag, hold or pass; other statuses pass', () => {
    const cases: [SmimeInspection['status'], 'tag' | 'quarantine' | 'pass', string][] = [
      ['tampered', 'tag', 'tag'],
      ['tampered', 'quarantine', 'hold'],
      ['tampered', 'pass', 'pass'],
      ['invalid', 'tag', 'tag'],
      ['invalid', 'quarantine', 'hold'],
      ['invalid', 'pass', 'pass'],
    ];
    for (const [status, cfg, action] of cases) {
      const o = status === 'tampered' ? { onTampered: cfg, onInvalid: 'tag' as const } : { onTampered: 'tag' as const, onInvalid: cfg };
      expect(smimeVerdict(signed({ status }), 'inbound', o).action, `${status} ${cfg}`).toBe(action);
    }
    const strict = { onTampered: 'quarantine', onInvalid: 'quarantine' } as const;
    for (const status of ['valid', 'untrusted', 'malformed'] as const) expect(smimeVerdict(signed({ status }), 'inbound', strict).action).toBe('pass');
    expect(smimeVerdict(unsigned(), 'inbound', strict).action).toBe('pass');
  });

  it('adds the header and facts, and the events with bounded labels', () => {
    const v = smimeVerdict(signed({ status: 'tampered', reason: 'content digest mismatch' }), 'internal', TAG);
    expect(v.headers).toEqual([['X-Postern-SMIME', 'tampered (signer ann@partner.test)']]);
    expect(v.facts).toEqual({ smime: 'tampered' });
    expect(v.reasons).toEqual([{ rule: 'smime-tampered', detail: 'content digest mismatch' }]);
    expect(v.events).toEqual([
      { kind: 'smime.message', labels: { signed: 'true', encrypted: 'false', direction: 'internal' } },
      { kind: 'smime.signature', labels: { result: 'tampered', direction: 'internal' } },
    ]);
    const mismatch = smimeVerdict(signed({ from: ['boss@example.test'] }), 'inbound', TAG);
    expect(mismatch.events[1]).toEqual({ kind: 'smime.signature', labels: { result: 'untrusted', direction: 'inbound' } });
    expect(mismatch.reasons).toEqual([{ rule: 'smime-untrusted', detail: 'signer-mismatch' }]);
    const valid = smimeVerdict(signed(), 'inbound', TAG);
    expect([valid.action, valid.reasons, valid.headers]).toEqual(['pass', [], [['X-Postern-SMIME', 'valid (signer ann@partner.test)']]]);
  });

  it('gives an unsigned message no header and no signature event; encrypted is counted', () => {
    const v = smimeVerdict(unsigned({ encrypted: true }), 'inbound', TAG);
    expect([v.action, v.headers, v.facts]).toEqual(['pass', [], { smime: 'none' }]);
    expect(v.events).toEqual([{ kind: 'smime.message', labels: { signed: 'false', encrypted: 'true', direction: 'inbound' } }]);
  });

  it('puts its own field on top of one that came with the message, even when unsigned', () => {
    const v = smimeVerdict(unsigned({ forgedHeader: true }), 'inbound', TAG);
    expect(v.headers).toEqual([['X-Postern-SMIME', 'none']]);
    expect(v.facts).toEqual({ smime: 'none', smime_forged_header: true });
    expect(v.reasons.map((r) => r.rule)).toEqual(['smime-forged-header']);
  });
});

describe('[policy.smime]', () => {
  const base = '[server]\nhostname = "mail.example.org"\n';
  const parse = (extra: string) => parseConfig(base + extra, '/srv/postern');

  it('is on by default, after the queue, for inbound and internal mail, with no anchors', () => {
    const r = parse('');
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(r.config.policy.smime).toEqual({
      enabled: true,
      phase: 'after-queue',
      directions: ['inbound', 'internal'],
      budget_ms: 10_000,
      fail_open: false,
      on_tampered: 'tag',
      on_invalid: 'tag',
      learn_certificates: true,
    });
    const set = parse('[policy.smime]\ntrust_anchors = "ca/smime.pem"\nphase = "inline"\ndirections = ["inbound"]\non_tampered = "quarantine"\nlearn_certificates = false\n');
    if (!set.ok) throw new Error(JSON.stringify(set.errors));
    expect(set.config.policy.smime).toMatchObject({ trust_anchors: '/srv/postern/ca/smime.pem', phase: 'inline', directions: ['inbound'], on_tampered: 'quarantine', learn_certificates: false });
    const empty = parse('[policy.smime]\ntrust_anchors = ""\n');
    expect(empty.ok && empty.config.policy.smime.trust_anchors).toBeUndefined();
  });

  it('names the key of a bad value', () => {
    const r = parse('[policy.smime]\ndirections = ["sideways"]\non_invalid = "reject"\nbudget_ms = 1\ntrust_anchors = 3\n');
    const keys = r.ok ? [] : r.errors.map((e) => e.key);
    expect(keys).toEqual(expect.arrayContaining(['policy.smime.directions', 'policy.smime.on_invalid', 'policy.smime.budget_ms', 'policy.smime.trust_anchors']));
    const none = parse('[policy.smime]\ndirections = []\n');
    expect(none.ok).toBe(false);
  });
});

describe('readTrustAnchors', () => {
  it('reads a PEM bundle, gives "" without a file, and stops on a missing or unreadable one', async () => {
    const pki = makePki();
    const dir = mkdtempSync(path.join(tmpdir(), 'postern-anchors-'));
    try {
      expect(await readTrustAnchors(undefined)).toBe('');
      const bundle = path.join(dir, 'ca.pem');
      writeFileSync(bundle, pki.rootPem + pki.otherRootPem);
      expect(await readTrustAnchors(bundle)).toContain('BEGIN CERTIFICATE');
      await expect(readTrustAnchors(path.join(dir, 'missing.pem'))).rejects.toThrow(TrustAnchorsError);
      const junk = path.join(dir, 'junk.pem');
      writeFileSync(junk, 'not a certificate\n');
      await expect(readTrustAnchors(junk)).rejects.toThrow(/not a PEM file of certificates/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      pki.cleanup();
    }
  });
});
