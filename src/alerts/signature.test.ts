import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhook } from './signature.js';

const SECRET = 'a webhook secret of some length';
const BODY = '{"version":1,"kind":"integrity.missing"}';

describe('webhook signature', () => {
  it('is t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">, as an independent HMAC computes it', () => {
    const h = signWebhook(SECRET, BODY, 1_800_000_000.9);
    const want = createHmac('sha256', SECRET).update(`1800000000.${BODY}`).digest('hex');
    expect(h).toBe(`t=1800000000,v1=${want}`);
  });

  it('verifies within the replay window and refuses outside it', () => {
    const h = signWebhook(SECRET, BODY, 1_800_000_000);
    expect(verifyWebhook(h, BODY, SECRET, 1_800_000_000)).toBe(true);
    expect(verifyWebhook(h, BODY, SECRET, 1_800_000_300)).toBe(true);
    expect(verifyWebhook(h, BODY, SECRET, 1_800_000_301)).toBe(false);
    expect(verifyWebhook(h, BODY, SECRET, 1_799_999_699)).toBe(false);
  });

  it('refuses another body, another secret, another time and malformed headers', () => {
    const h = signWebhook(SECRET, BODY, 1_800_000_000);
    expect(verifyWebhook(h, BODY.replace('missing', 'corrected'), SECRET, 1_800_000_000)).toBe(false);
    expect(verifyWebhook(h, BODY, `${SECRET}x`, 1_800_000_000)).toBe(false);
    expect(verifyWebhook(h.replace('t=1800000000', 't=1800000001'), BODY, SECRET, 1_800_000_000)).toBe(false);
    for (const bad of ['', 'v1=abc', 't=abc,v1=00', `t=1800000000,t=1800000000,${h.split(',')[1]}`, h.replace(/v1=.*/, 'v1=')]) {
      expect(verifyWebhook(bad, BODY, SECRET, 1_800_000_000)).toBe(false);
    }
  });

  it('accepts any of several v1 values (a receiver rolling its key sees both)', () => {
    const h = signWebhook(SECRET, BODY, 1_800_000_000);
    const other = signWebhook('another secret 123456', BODY, 1_800_000_000).split(',')[1];
    expect(verifyWebhook(`${h},${other}`, BODY, SECRET, 1_800_000_000)).toBe(true);
  });
});
