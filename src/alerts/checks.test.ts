import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { generateSelfSigned } from '../crypto/selfsigned.js';
import { certDaysLeft, DAY_MS, StateCheck } from './checks.js';

const dir = mkdtempSync(path.join(tmpdir(), 'postern-alert-checks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('StateCheck', () => {
  it('records when a check turns bad and once a day while it stays bad', () => {
    const clock = new ManualClock(1_000);
    const got: unknown[] = [];
    const c = new StateCheck('queue.old', { record: (_k, _s, d) => got.push(d) }, clock);
    expect(c.update(false, 'queue', {})).toBe(false);
    expect(c.update(true, 'queue', { n: 1 })).toBe(true);
    clock.advance(DAY_MS - 1);
    expect(c.update(true, 'queue', { n: 2 })).toBe(false);
    clock.advance(1);
    expect(c.update(true, 'queue', { n: 3 })).toBe(true);
    expect(c.update(false, 'queue', {})).toBe(false);
    expect(c.update(true, 'queue', { n: 4 })).toBe(true); // bad again after being good: at once
    expect(got).toEqual([{ n: 1 }, { n: 3 }, { n: 4 }]);
  });
});

describe('certDaysLeft', () => {
  it('reads the expiry of the first certificate in a PEM file', async () => {
    const cert = await generateSelfSigned({ hostname: 'mail.example.test' });
    const file = path.join(dir, 'cert.pem');
    writeFileSync(file, cert.certPem + cert.certPem);
    const { X509Certificate } = await import('node:crypto');
    const until = Date.parse(new X509Certificate(cert.certPem).validTo);
    expect(await certDaysLeft(file, until - 10 * DAY_MS - 1000)).toBe(10);
    expect(await certDaysLeft(file, until + DAY_MS + 1)).toBe(-2);
  });

  it('says so when the file holds no certificate', async () => {
    const file = path.join(dir, 'empty.pem');
    writeFileSync(file, 'nothing here\n');
    await expect(certDaysLeft(file, 0)).rejects.toThrow(/no certificate/);
  });
});
