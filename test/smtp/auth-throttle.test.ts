import { describe, expect, it, vi } from 'vitest';
import { useHarness, type Harness } from '../support/harness.js';
import { plainToken, RawClient } from '../support/raw.js';
import { smtplib } from '../support/smtplib.js';

// Three failures lock a client address (harness setting); accounts are never locked, only slowed down.
let h: Harness;
useHarness({ maxAuthFailures: 3 }, (x) => (h = x));

const auth = (c: RawClient, user: string, password: string) => c.cmd(`AUTH PLAIN ${plainToken(user, password)}`);

describe('failed authentication', () => {
  it('answers a wrong password with 535, closes the session after three, then refuses even the right password with 454', async () => {
    const { alice } = h.users;
    const wrong = await smtplib({
      port: h.ports.submission, mode: 'starttls', ca: h.caFile,
      logins: [1, 2, 3].map((i) => ({ user: alice.address, password: `wrong-${i}` })),
    });
    expect(wrong.auth?.map((a) => a[0])).toEqual([535, 535, 421]);
    expect(wrong.auth?.[0]?.[1]).toBe('5.7.8 Authentication credentials invalid');

    const right = await smtplib({ port: h.ports.submissions, mode: 'ssl', ca: h.caFile, logins: [{ user: alice.address, password: alice.password }] });
    expect(right.auth?.[0]?.[0]).toBe(454);
    expect(right.auth?.[0]?.[1]).toMatch(/^4\.7\.0 /);
    expect(h.logs.some((l) => l.msg === 'auth refused: throttled' && l.user === alice.address && l.result === 'locked')).toBe(true);
  });

  it('closes the connection after the third failure in one session', async () => {
    const c = await RawClient.submissionTls(h.ports.submission, h.caPem, '127.0.0.2');
    expect((await auth(c, 'nobody@example.test', 'x'))?.code).toBe(535);
    expect((await auth(c, 'nobody@example.test', 'y'))?.code).toBe(535);
    expect((await auth(c, 'nobody@example.test', 'z'))?.code).toBe(421);
    expect(await c.closed()).toBe(true);
  });

  it('does not lock an account attacked from several addresses: its owner still gets in', async () => {
    const { bob } = h.users;
    for (const ip of ['127.0.0.3', '127.0.0.4', '127.0.0.5']) {
      const c = await RawClient.submissionTls(h.ports.submission, h.caPem, ip);
      expect((await auth(c, bob.address, 'guess'))?.code).toBe(535);
      c.close();
    }
    // Answered after the account's (short, in this harness) delay, and accepted.
    const c = await RawClient.submissionTls(h.ports.submission, h.caPem, '127.0.0.6');
    expect((await auth(c, bob.address, bob.password))?.code).toBe(235);
    c.close();
  });

  it('does not forget failures after a successful login, so one valid account cannot reset the count', async () => {
    const { victim, alice } = h.users;
    const ip = '127.0.0.7';
    let c = await RawClient.submissionTls(h.ports.submission, h.caPem, ip);
    expect((await auth(c, victim.address, 'guess-1'))?.code).toBe(535);
    expect((await auth(c, victim.address, 'guess-2'))?.code).toBe(535);
    expect((await auth(c, victim.address, victim.password))?.code).toBe(235);
    c.close();
    // The third failure from this address locks it, success or not in between.
    c = await RawClient.submissionTls(h.ports.submission, h.caPem, ip);
    expect((await auth(c, victim.address, 'guess-3'))?.code).toBe(535);
    c.close();
    c = await RawClient.submissionTls(h.ports.submission, h.caPem, ip);
    expect((await auth(c, alice.address, alice.password))?.code, 'an account never used from here').toBe(454);
    // victim logged in from here, but failed three times from here since: no privilege left.
    expect((await auth(c, victim.address, victim.password))?.code).toBe(454);
    c.close();
  });

  it('answers 454 when the account lookup throws, leaves no unhandled rejection, and keeps serving', async () => {
    const { alice } = h.users;
    const rejections: unknown[] = [];
    const onRejection = (r: unknown): void => void rejections.push(r);
    process.on('unhandledRejection', onRejection);
    const spy = vi.spyOn(h.directory, 'sendableAddresses').mockRejectedValueOnce(new Error('store down'));
    try {
      const c = await RawClient.submissionTls(h.ports.submission, h.caPem, '127.0.0.8');
      const r = await auth(c, alice.address, alice.password);
      expect(r?.code).toBe(454);
      expect(r?.text ?? '').not.toMatch(/store down/);
      expect((await auth(c, alice.address, alice.password))?.code).toBe(235);
      c.close();
    } finally {
      spy.mockRestore();
      process.off('unhandledRejection', onRejection);
    }
    expect(rejections).toEqual([]);
  });
});
