/** The hook for mail to the rua address, against a real SQLite store. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ingestDmarcMail } from '../../../src/policy/dmarc-report/index.js';
import { openStore } from '../../../src/store/index.js';
import type { DmarcReportRepo, Store } from '../../../src/store/types.js';

const DIR = path.join(import.meta.dirname, '../../corpus/dmarc/aggregate');

describe('ingestDmarcMail', () => {
  let dir: string;
  let s: Store;
  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'postern-dmarc-'));
    s = await openStore({ backend: 'sqlite', dataDir: dir });
  });
  afterEach(async () => {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores a mailed report once, however often it arrives', async () => {
    const mail = readFileSync(path.join(DIR, 'google-report-borschow.com-949348866075514174.eml'));
    expect(await ingestDmarcMail(mail, s.meta.dmarcReports, 1_000)).toEqual({ stored: 1, duplicates: 0, problems: [], storeFailed: false });
    expect(await ingestDmarcMail(mail, s.meta.dmarcReports, 2_000)).toEqual({ stored: 0, duplicates: 1, problems: [], storeFailed: false });
    const list = await s.meta.dmarcReports.list({ since: 0 });
    expect(list).toMatchObject([{ orgName: 'google.com', reportId: '949348866075514174', domain: 'borschow.com', receivedAt: 1_000 }]);
    const sum = await s.meta.dmarcReports.summary({ since: 0, domain: 'borschow.com' });
    expect(sum).toHaveLength(1);
    expect(sum[0]!.reporters).toEqual(['google.com']);
  });

  it('returns problems for mail that holds no report, and stores nothing', async () => {
    const r = await ingestDmarcMail(Buffer.from('Subject: hello\r\n\r\nnot a report\r\n'), s.meta.dmarcReports, 1);
    expect(r).toEqual({ stored: 0, duplicates: 0, problems: ['no report attachment (zip, gzip or xml) in the message'], storeFailed: false });
    expect(await s.meta.dmarcReports.list({ since: 0 })).toEqual([]);
  });

  it('says so when the store fails, instead of throwing', async () => {
    const broken: DmarcReportRepo = {
      add: () => Promise.reject(new Error('disk full')),
      summary: () => Promise.resolve([]),
      list: () => Promise.resolve([]),
    };
    const r = await ingestDmarcMail(readFileSync(path.join(DIR, 'twilight.eml')), broken, 1);
    expect(r.storeFailed).toBe(true);
    expect(r.stored).toBe(0);
    expect(r.problems).toEqual([expect.stringMatching(/^report "1627703331531660819" from "google\.com": not stored \(disk full\)/)]);
  });
});
