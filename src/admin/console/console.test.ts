/**
 * The console's arithmetic and session rules: TOTP against the RFC 6238
 * test vectors, enrollment codes, and session expiry, rotation and CSRF.
 */
import { describe, expect, it } from 'vitest';
import { base32, enrollmentCodeDigest, matchTotp, newEnrollmentCode, otpauthUri, totpCode, TOTP_STEP_MS } from './codes.js';
import { ABSOLUTE_MS, csrfMatches, IDLE_MS, MAX_SESSIONS, sessionCookie, SessionStore } from './sessions.js';

// RFC 6238 appendix B, SHA-1 seed "12345678901234567890"; the RFC prints 8 digits, 6 are the last six.
const SEED = new TextEncoder().encode('12345678901234567890');
const VECTORS: [number, string][] = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

describe('TOTP (RFC 6238, SHA-1, 6 digits)', () => {
  it('matches the RFC test vectors', () => {
    for (const [t, code] of VECTORS) expect(totpCode(SEED, Math.floor(t / 30))).toBe(code.slice(2));
  });

  it('accepts one step either side of now and nothing further, and only six digits', () => {
    const now = 1234567890_000;
    const step = Math.floor(now / TOTP_STEP_MS);
    expect(matchTotp(SEED, totpCode(SEED, step), now)).toBe(step);
    expect(matchTotp(SEED, totpCode(SEED, step - 1), now)).toBe(step - 1);
    expect(matchTotp(SEED, totpCode(SEED, step + 1), now)).toBe(step + 1);
    expect(matchTotp(SEED, totpCode(SEED, step + 2), now)).toBeNull();
    expect(matchTotp(SEED, totpCode(SEED, step - 2), now)).toBeNull();
    expect(matchTotp(SEED, ` ${totpCode(SEED, step).slice(0, 3)} ${totpCode(SEED, step).slice(3)} `, now)).toBe(step);
    for (const bad of ['', '12345', '1234567', 'abcdef', '12345x']) expect(matchTotp(SEED, bad, now)).toBeNull();
  });

  it('encodes secrets as RFC 4648 base32 for authenticator apps', () => {
    expect(base32(new TextEncoder().encode('foobar'))).toBe('MZXW6YTBOI');
    expect(otpauthUri('a@example.org', SEED)).toBe('otpauth://totp/postern%3Aa%40example.org?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=postern&algorithm=SHA1&digits=6&period=30');
  });
});

describe('enrollment codes', () => {
  it('are 20 base32 letters in groups of four, digested the same however typed', () => {
    const code = newEnrollmentCode();
    expect(code).toMatch(/^[A-Z2-7]{4}(-[A-Z2-7]{4}){4}$/);
    expect(newEnrollmentCode()).not.toBe(code);
    expect(enrollmentCodeDigest(code.toLowerCase().replace(/-/g, ' '))).toBe(enrollmentCodeDigest(code));
    expect(enrollmentCodeDigest(code)).toMatch(/^[0-9a-f]{64}$/);
    expect(enrollmentCodeDigest(code)).not.toBe(enrollmentCodeDigest(newEnrollmentCode()));
  });
});

describe('sessions', () => {
  const clock = { t: 1_000_000 };
  const store = () => new SessionStore(() => clock.t);

  it('expire after 15 minutes idle and 8 hours in all', () => {
    const ss = store();
    const s = ss.create();
    clock.t += IDLE_MS - 1;
    expect(ss.get(s.id)).toBe(s);
    clock.t += IDLE_MS - 1;
    expect(ss.get(s.id)).toBe(s); // kept alive by use
    clock.t += IDLE_MS;
    expect(ss.get(s.id)).toBeNull();
    const long = ss.create();
    for (let i = 0; i < 100 && clock.t - long.createdAt < ABSOLUTE_MS; i++) {
      expect(ss.get(long.id)).toBe(long);
      clock.t += IDLE_MS / 2;
    }
    expect(ss.get(long.id)).toBeNull();
  });

  it('rotate to a new id and CSRF token, and the old id stops working', () => {
    const ss = store();
    const s = ss.create();
    const n = ss.rotate(s, { stage: 'full', address: 'a@example.org', roles: ['mailadmin'] });
    expect(n.id).not.toBe(s.id);
    expect(n.csrf).not.toBe(s.csrf);
    expect(ss.get(s.id)).toBeNull();
    expect(ss.get(n.id)).toMatchObject({ stage: 'full', address: 'a@example.org' });
    expect(ss.get('x'.repeat(43))).toBeNull();
    expect(ss.get('not an id')).toBeNull();
    expect(ss.get(undefined)).toBeNull();
  });

  it('check CSRF tokens exactly', () => {
    const s = store().create();
    expect(csrfMatches(s, s.csrf)).toBe(true);
    expect(csrfMatches(s, `${s.csrf.slice(0, -1)}${s.csrf.endsWith('A') ? 'B' : 'A'}`)).toBe(false);
    expect(csrfMatches(s, '')).toBe(false);
    expect(csrfMatches(s, undefined)).toBe(false);
    expect(csrfMatches(s, [s.csrf])).toBe(false);
  });

  it('are capped: pre-login sessions go first, least recently used first, so a flood of login pages keeps logged-in people in', () => {
    const ss = store();
    const loggedIn = ss.rotate(ss.create(), { stage: 'full', address: 'a@example.org', roles: ['mailadmin'] });
    const first = ss.create();
    const second = ss.create();
    expect(ss.get(first.id)).toBe(first); // first is now more recently used than second
    for (let i = 0; i < MAX_SESSIONS; i++) ss.create();
    expect(ss.size).toBe(MAX_SESSIONS);
    expect(ss.get(second.id)).toBeNull();
    expect(ss.get(first.id)).toBeNull();
    expect(ss.get(loggedIn.id)).toBe(loggedIn); // the oldest of all, but logged in
  });

  it('set a __Host- cookie that is Secure, HttpOnly and SameSite=Strict', () => {
    expect(sessionCookie('abc')).toBe('__Host-postern-session=abc; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=28800');
  });
});
