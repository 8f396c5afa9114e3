import { describe, expect, it } from 'vitest';
import { alertMail, alertTitle, webhookBody, type Alert } from './alert.js';

const base: Alert = {
  kind: 'integrity.uncorrectable',
  severity: 'critical',
  host: 'mail.example.test',
  subject: 'blob:abc',
  at: Date.UTC(2026, 11, 3, 10, 0, 0),
  data: { detail: 'block 3: 2 bits\r\nBcc: victim@example.net' },
  advice: 'Restore it.',
};

describe('alert rendering', () => {
  it('titles an alert and a summary', () => {
    expect(alertTitle(base)).toBe('[postern critical] integrity.uncorrectable on mail.example.test');
    expect(alertTitle({ ...base, summary: { count: 995, firstAt: 0, lastAt: 1 } })).toBe('[postern critical] 995 more integrity.uncorrectable events on mail.example.test');
  });

  it('builds a mail whose data cannot add header fields or long lines', () => {
    const m = alertMail({ ...base, data: { ...base.data, long: 'x'.repeat(5000) } }, { from: 'postmaster@mail.example.test', to: ['ops@example.test'], now: base.at, messageId: 'q1.alert@mail.example.test', windowNote: 'n' }).toString('utf8');
    const cut = m.indexOf('\r\n\r\n');
    const head = m.slice(0, cut);
    const body = m.slice(cut + 4);
    expect(head).toMatch(/^Auto-Submitted: auto-generated$/m);
    expect(head).toMatch(/^Subject: \[postern critical\] integrity\.uncorrectable on mail\.example\.test$/m);
    expect(head).toMatch(/^Date: Thu, 03 Dec 2026 10:00:00 \+0000$/m);
    expect(head).not.toMatch(/^Bcc:/m);
    expect(body).toContain('detail: block 3: 2 bits Bcc: victim@example.net');
    expect(body).toContain('Restore it.');
    for (const line of m.split('\r\n')) expect(line.length).toBeLessThanOrEqual(998);
    expect(m.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/); // no bare CR or LF
  });

  it('makes a webhook body with the documented fields', () => {
    const b = JSON.parse(webhookBody({ ...base, summary: { count: 7, firstAt: base.at, lastAt: base.at + 1000 } })) as Record<string, unknown>;
    expect(b).toMatchObject({ version: 1, host: 'mail.example.test', severity: 'critical', kind: 'integrity.uncorrectable', subject: 'blob:abc', at: '2026-12-03T10:00:00.000Z' });
    expect(b.summary).toEqual({ count: 7, from: '2026-12-03T10:00:00.000Z', to: '2026-12-03T10:00:01.000Z' });
    const big = JSON.parse(webhookBody({ ...base, data: { x: 'y'.repeat(100_000) } })) as { data: unknown };
    expect(big.data).toEqual({ truncated: true });
  });
});
