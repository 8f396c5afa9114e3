/**
 * `postern report` as an administrator runs it (npm test builds dist first):
 * events recorded in an installation's store, then the built command in
 * each format.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportWindow } from '../../src/cli/commands/report.js';
import { UsageError } from '../../src/cli/context.js';
import { openStore } from '../../src/store/index.js';
import { cli, makeInstallation, type Installation } from '../process/postern-process.js';

const DAY = 86_400_000;

describe('reportWindow', () => {
  const now = Date.UTC(2026, 11, 3, 12);
  it.each([
    [{ since: '30d' }, { since: now - 30 * DAY, until: now }],
    [{ since: '7d', until: '2026-11-08' }, { since: Date.UTC(2026, 10, 1), until: Date.UTC(2026, 10, 8) }],
    [{ since: '2026-11-01', until: '2026-12-01T06:30:00Z' }, { since: Date.UTC(2026, 10, 1), until: Date.UTC(2026, 11, 1, 6, 30) }],
    [{ since: '12h', until: '1d' }, { since: now - 36 * 3_600_000, until: now - DAY }],
  ])('%j', (o, want) => expect(reportWindow(o, now)).toEqual(want));

  it.each([{ since: 'yesterday' }, { since: '30d', until: 'soon' }, { since: '2026-12-02', until: '2026-12-01' }, { since: '1d', until: '2030-01-01T00:00:00+25:00' }])(
    'refuses %j',
    (o) => expect(() => reportWindow(o, now)).toThrow(UsageError),
  );
});

describe('postern report', () => {
  let inst: Installation;
  const now = Date.now();

  beforeAll(async () => {
    inst = await makeInstallation('report.test');
    const s = await openStore({ backend: 'sqlite', dataDir: path.join(inst.dir, 'data') });
    try {
      const e = s.meta.events;
      for (let i = 0; i < 3; i++) await e.record('smtp.message', 'q', { listener: 'mx', tls: 'TLSv1.3' }, now - 2 * DAY);
      await e.record('smtp.message', 'q', { listener: 'mx', tls: 'none' }, now - 2 * DAY);
      await e.record('smtp.message', 'q', { listener: 'mx', tls: 'TLSv1.3' }, now - 40 * DAY);
      await e.record('tls.failure', '<img src=x onerror=alert(1)>.example', { policy: 'dane', resultType: 'validation-failure' }, now - DAY);
      await e.record('availability.downtime', 'node', { cause: 'probe', planned: false, from: now - DAY - 3_600_000, to: now - DAY, ms: 3_600_000 }, now - DAY);
    } finally {
      await s.close();
    }
  }, 60_000);
  afterAll(() => inst?.cleanup());

  it('prints the text report', () => {
    const r = cli(inst, ['report', '--since', '30d']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ {2}inbound messages \(mx\) +4 +1 {2}\+3 \(\+300\.0%\)/m);
    expect(r.stdout).toMatch(/^ {2}availability +99\.86% +100\.00% {2}-0\.14 pt {2}SLA 99\.9% MISSED/m);
  });

  it('writes JSON with the figures', () => {
    const r = cli(inst, ['report', '--since', '30d', '--format', 'json']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as { schema: string; confidentiality: { inbound: { tlsSharePct: { value: number } } }; availability: { unplannedMs: { value: number } } };
    expect(j.schema).toBe('postern.report/1');
    expect(j.confidentiality.inbound.tlsSharePct.value).toBe(75);
    expect(j.availability.unplannedMs.value).toBe(3_600_000);
  });

  it('writes the HTML page to a file, escaped', () => {
    const file = path.join(inst.dir, 'report.html');
    const r = cli(inst, ['report', '--since', '30d', '--format', 'html', '--output', file]);
    expect([r.status, r.stdout, r.stderr]).toEqual([0, '', '']);
    const html = readFileSync(file, 'utf8');
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain('&#60;img src=x onerror=alert(1)&#62;.example');
    expect(html).not.toContain('<img');
  });

  it('names the option and the reason for bad input', () => {
    expect(cli(inst, ['report', '--format', 'pdf'])).toMatchObject({ status: 2, stderr: expect.stringMatching(/--format takes text, json or html, not "pdf"/) });
    expect(cli(inst, ['report', '--since', '2030-01-02', '--until', '2030-01-01'])).toMatchObject({ status: 2, stderr: expect.stringMatching(/--since .* must be before --until/) });
    expect(cli(inst, ['report', '--output', path.join(inst.dir, 'no', 'such', 'dir.txt')])).toMatchObject({ status: 2, stderr: expect.stringMatching(/--output .*ENOENT/) });
  });
});
