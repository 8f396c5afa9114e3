/**
 * `postern dmarc`: the command's functions directly, then the built command
 * as an administrator runs it (npm test builds dist first).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatSummary, importReportFiles, parseSince } from '../../src/cli/commands/dmarc.js';
import { UsageError } from '../../src/cli/context.js';
import { openStore } from '../../src/store/index.js';
import type { DmarcSummaryRow } from '../../src/store/types.js';
import { cli, makeInstallation, type Installation } from '../process/postern-process.js';

const CORPUS = path.resolve(import.meta.dirname, '../corpus/dmarc');
const NOW = Date.UTC(2026, 11, 3, 12, 0, 0);

describe('parseSince', () => {
  it.each([
    ['7d', NOW - 7 * 86_400_000],
    ['12h', NOW - 12 * 3_600_000],
    ['30m', NOW - 30 * 60_000],
    ['2w', NOW - 14 * 86_400_000],
    ['2026-11-01', Date.UTC(2026, 10, 1)],
  ])('%s', (text, want) => expect(parseSince(text, NOW)).toBe(want));

  it.each(['', '7', 'd', '-1d', '7y', '2026-13-45', '1e3d'])('refuses %j', (text) => expect(() => parseSince(text, NOW)).toThrow(UsageError));
});

describe('formatSummary', () => {
  const row = (sourceIp: string, count: number, dmarcPass: number, reporters: string[]): DmarcSummaryRow => ({
    domain: 'example.com',
    sourceIp,
    headerFrom: 'example.com',
    count,
    dkimPass: dmarcPass,
    dkimFail: count - dmarcPass,
    spfPass: 0,
    spfFail: count,
    dmarcPass,
    dmarcFail: count - dmarcPass,
    reporters,
  });

  it('prints an aligned table with totals', () => {
    expect(formatSummary([row('192.0.2.1', 120, 120, ['google.com', 'Yahoo']), row('2001:db8::25', 3, 0, ['Outlook.com'])]).split('\n')).toEqual([
      'DOMAIN       SOURCE IP     HEADER FROM  COUNT  DMARC PASS  DMARC FAIL  DKIM PASS  SPF PASS  REPORTERS',
      'example.com  192.0.2.1     example.com    120         120           0       100%        0%  google.com, Yahoo',
      'example.com  2001:db8::25  example.com      3           0           3         0%        0%  Outlook.com',
      '',
      '123 message(s) reported, 3 failing DMARC, from 2 source(s)',
    ]);
  });

  it('says when there is nothing', () => {
    expect(formatSummary([])).toBe('no DMARC aggregate reports in this period');
  });
});

describe('importReportFiles', () => {
  it('stores each file once and reports what it could not read', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'postern-dmarc-cli-'));
    const s = await openStore({ backend: 'sqlite', dataDir: dir });
    try {
      const files = ['aggregate/twilight.eml', 'extract-report/nice-input.xml.zip', 'extract-report/nice-input.xml.gz', 'aggregate/invalid_xml.xml', 'nosuch.xml'].map((f) =>
        path.join(CORPUS, f),
      );
      const out = await importReportFiles(s.meta.dmarcReports, files, 5);
      expect(out.map((o) => [path.basename(o.file), o.stored, o.duplicates, o.problems.length])).toEqual([
        ['twilight.eml', 1, 0, 0],
        ['nice-input.xml.zip', 1, 0, 0],
        ['nice-input.xml.gz', 0, 1, 0], // the same report, gzipped
        ['invalid_xml.xml', 0, 0, 1],
        ['nosuch.xml', 0, 0, 1],
      ]);
      expect(out[4]!.problems[0]).toMatch(/ENOENT/);
      const sum = await s.meta.dmarcReports.summary({ since: 0, domain: 'example.com' });
      expect(sum.reduce((a, r) => a + r.count, 0)).toBe(3047);
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('postern dmarc (built command)', () => {
  let inst: Installation;
  beforeAll(async () => {
    inst = await makeInstallation('dmarc.test');
  });
  afterAll(() => inst.cleanup());

  it('imports reports and prints who sends as each domain', () => {
    const files = ['aggregate/rfc9990-example.net!example.com!1700000000!1700086399.xml', 'aggregate/fastmail.com!example.com!1516060800!1516147199!102675056.xml.gz'];
    let r = cli(inst, ['dmarc', 'import', ...files.map((f) => path.join(CORPUS, f))]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/rfc9990-example\.net.*: 1 report\(s\) stored, 0 already known/);
    r = cli(inst, ['dmarc', 'import', path.join(CORPUS, files[0]!)]);
    expect(r.stdout).toMatch(/0 report\(s\) stored, 1 already known/);

    r = cli(inst, ['dmarc', 'report', '--since', '2017-01-01', '--domain', 'Example.COM']);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^DOMAIN\s+SOURCE IP\s+HEADER FROM\s+COUNT\s+DMARC PASS\s+DMARC FAIL\s+DKIM PASS\s+SPF PASS\s+REPORTERS$/);
    expect(lines[1]).toMatch(/^example\.com\s+198\.51\.100\.1\s+example\.com\s+5\s+5\s+0\s+100%\s+100%\s+example\.net$/);
    expect(lines[2]).toMatch(/^example\.com\s+203\.0\.113\.10\s+example\.com\s+2\s+0\s+2\s+0%\s+0%\s+example\.net$/);
    expect(lines.at(-1)).toBe('7 message(s) reported, 2 failing DMARC, from 2 source(s)');

    r = cli(inst, ['dmarc', 'report', '--since', '2017-01-01', '--json']);
    const j = JSON.parse(r.stdout) as { rows: DmarcSummaryRow[] };
    expect(j.rows.map((x) => [x.domain, x.sourceIp, x.count])).toEqual([
      ['example.com', '198.51.100.1', 5],
      ['example.com', '203.0.113.10', 2],
      ['indemed.com', '104.195.80.20', 1],
    ]);

    // The default period is the last 7 days: these reports are older.
    expect(cli(inst, ['dmarc', 'report']).stdout.trim()).toBe('no DMARC aggregate reports in this period');
  });

  it('says what is wrong with a bad file or option, with exit code 2', () => {
    let r = cli(inst, ['dmarc', 'import', path.join(CORPUS, 'aggregate/invalid_xml.xml')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/invalid_xml\.xml: malformed XML/);
    r = cli(inst, ['dmarc', 'report', '--since', 'last week']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--since takes a duration/);
  });
});
