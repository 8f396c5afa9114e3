import { describe, expect, it } from 'vitest';
import { authservIdOf, stripForged, stripForgedAuthResults, VERDICT_FIELDS } from './strip.js';

const enc = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const dec = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

describe('stripForgedAuthResults', () => {
  it('removes only A-R fields with our authserv-id, keeping every other byte', () => {
    const msg =
      'Received: from a by b; Thu, 3 Dec 2026 10:00:00 +0000\r\n' +
      'Authentication-Results: MX.Postern.Example; dkim=pass; dmarc=pass\r\n' +
      'Authentication-Results: other.example; spf=fail\r\n' +
      'authentication-results:  (comment (nested)) "mx.postern.example"\r\n\t; dkim=pass\r\n' +
      'ARC-Authentication-Results: i=1; mx.postern.example; dkim=pass\r\n' +
      'From: a@example.org\r\n\r\n' +
      'Authentication-Results: mx.postern.example; body line\r\n';
    const r = stripForgedAuthResults(enc(msg), 'mx.postern.example');
    expect(r.removed).toBe(2);
    expect(dec(r.raw)).toBe(
      'Received: from a by b; Thu, 3 Dec 2026 10:00:00 +0000\r\n' +
        'Authentication-Results: other.example; spf=fail\r\n' +
        'ARC-Authentication-Results: i=1; mx.postern.example; dkim=pass\r\n' +
        'From: a@example.org\r\n\r\n' +
        'Authentication-Results: mx.postern.example; body line\r\n',
    );
  });

  it('counts an authserv-id with a trailing dot as ours', () => {
    const r = stripForgedAuthResults(enc('Authentication-Results: mx.postern.example.; dmarc=pass\r\nFrom: a@b.example\r\n\r\n'), 'MX.postern.example');
    expect(r.removed).toBe(1);
    expect(dec(r.raw)).toBe('From: a@b.example\r\n\r\n');
  });

  it('leaves a message without such fields as it was', () => {
    const raw = enc('From: a@example.org\nAuthentication-Results: mx.postern.example.evil; x=y\n\nbody');
    const r = stripForgedAuthResults(raw, 'mx.postern.example');
    expect(r.removed).toBe(0);
    expect(r.raw).toBe(raw);
  });

  it('reads the authserv-id as a token or quoted string after comments', () => {
    expect(authservIdOf('mx.example; dkim=pass')).toBe('mx.example');
    expect(authservIdOf('  mx.example 1; none')).toBe('mx.example');
    expect(authservIdOf('(c) "mx.exa\\"mple";')).toBe('mx.exa"mple');
    expect(authservIdOf('(unterminated')).toBeNull();
    expect(authservIdOf('')).toBeNull();
    expect(authservIdOf('x'.repeat(300))).toBeNull();
  });

  it('reports a header larger than 1 MiB as truncated', () => {
    const big = 'X-Pad: ' + 'a'.repeat(200) + '\r\n';
    const raw = enc(big.repeat(6000) + 'Authentication-Results: mx.postern.example; dkim=pass\r\n\r\nbody');
    const r = stripForgedAuthResults(raw, 'mx.postern.example');
    expect(r.truncated).toBe(true);
  });
});

describe('stripForged', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const dec = (b: Uint8Array) => new TextDecoder().decode(b);

  it('removes the verdict fields a sender wrote, keeps other X-Postern fields', () => {
    const msg = 'Received: from x\r\nX-Postern-SMIME: valid (signer ceo@example.org)\r\nX-Postern-DLP:\r\n payment-cards\r\nX-Postern-Probe: 123\r\nFrom: a@b.example\r\n\r\nX-Postern-Spoof: body text stays\r\n';
    const r = stripForged(enc(msg), null, VERDICT_FIELDS);
    expect(r.removed).toBe(2);
    expect(dec(r.raw)).toBe('Received: from x\r\nX-Postern-Probe: 123\r\nFrom: a@b.example\r\n\r\nX-Postern-Spoof: body text stays\r\n');
  });

  it('leaves Authentication-Results alone without an authserv-id, removes ours with one', () => {
    const msg = 'Authentication-Results: mx.postern.example; dmarc=pass\r\nX-Postern-Malware: none\r\n\r\nx';
    expect(dec(stripForged(enc(msg), null, VERDICT_FIELDS).raw)).toBe('Authentication-Results: mx.postern.example; dmarc=pass\r\n\r\nx');
    expect(dec(stripForged(enc(msg), 'mx.postern.example', VERDICT_FIELDS).raw)).toBe('\r\nx');
  });
});
