/**
 * Every report in test/corpus/dmarc parses to the reporter, report id,
 * domain and counts the file holds (counted independently with grep when
 * the corpus was taken); broken ones give problems, never exceptions.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractReports, extractReportsFromFile, parseAggregateXml, isReportError } from '../../../src/policy/dmarc-report/index.js';

const DIR = path.join(import.meta.dirname, '../../corpus/dmarc');
const read = (f: string) => readFileSync(path.join(DIR, f));

// file, org, report id, policy domain, rows, messages (sum of counts)
const GOOD: [string, string, string, string, number, number][] = [
  ['aggregate/!example.com!1538204542!1538463818.xml', '', 'example.com:1538463741', 'example.com', 1, 1],
  ['aggregate/!large-example.com!1711897200!1711983600.xml', '', 'example.com:1711897200', 'example.com', 2286, 2286],
  ['aggregate/addisonfoods.com!example.com!1536105600!1536191999.xml', 'addisonfoods.com', '3ceb5548498640beaeb47327e202b0b9', 'example.com', 1, 1],
  ['aggregate/empty_reason.xml', 'example.org', '20240125141224705995', 'example.com', 1, 2],
  ['aggregate/estadocuenta1.infonacot.gob.mx!example.com!1536853302!1536939702!2940.xml.zip', 'XYZ Corporation', '2940', 'example.com', 1, 1],
  ['aggregate/example.net!example.com!1529366400!1529452799.xml', 'example.net', 'b043f0e264cf4ea995e93765242f6dfb', 'example.com', 1, 1],
  ['aggregate/fastmail.com!example.com!1516060800!1516147199!102675056.xml.gz', 'FastMail Pty Ltd', '102675056', 'indemed.com', 1, 1],
  ['aggregate/google-report-borschow.com-949348866075514174.eml', 'google.com', '949348866075514174', 'borschow.com', 1, 1],
  ['aggregate/ikea.com!example.de!1538690400!1538776800.xml', 'ikea.com', 'aggr_report_2018_10_05_5bc7e9b4f3e8a', 'example.de', 1, 1],
  ['aggregate/invalid_utf_8.xml', '', 'example.com:1538463741', 'example.com', 1, 1],
  ['aggregate/mimecast-weird-gzip.eml', 'Mimecast', '157a5fe30ec76f4bc0d8bccfc96c118a167a1280fee7c7465af5115e73082e5e', 'ab.id.au', 1, 1],
  ['aggregate/old_draft_from_wiki.xml', 'acme.com', '9391651994964116463', 'example.com', 1, 2],
  ['aggregate/protection.outlook.com!example.com!1711756800!1711843200.xml', 'Outlook.com', 'cfeafefe4129445e8c81018bd9177197', 'example.com', 1, 1],
  ['aggregate/rfc9990-example.net!example.com!1700000000!1700086399.xml', 'example.net', 'dmarcbis-test-report-001', 'example.com', 2, 7],
  ['aggregate/rfc9990-sample.xml', 'Sample Reporter', '3v98abbp8ya9n3va8yr8oa3ya', 'example.com', 1, 123],
  ['aggregate/twilight.eml', 'google.com', '1627703331531660819', 'twlnet.com', 1, 1],
  ['aggregate/usssa.com!example.com!1538784000!1538870399.xml', 'usssa.com', '8953b4d4a4ee4218b6ac0e2cb2667ee1', 'example.com', 2, 2],
  ['aggregate/veeam.com!example.com!1530133200!1530219600.xml', 'veeam.com', 'sonexushealth.com:1530233361', 'example.com', 1, 1],
  ['aggregate-invalid/report_with_upper_cased_pass.xml', 'example.com', 'aggr_report_example.com_20191202_1638', 'example.com', 1, 1],
  ['extract-report/nice-input.xml', 'google.com', '11038226378739404135', 'example.com', 20, 3047],
  ['extract-report/nice-input.xml.gz', 'google.com', '11038226378739404135', 'example.com', 20, 3047],
  ['extract-report/nice-input.xml.zip', 'google.com', '11038226378739404135', 'example.com', 20, 3047],
  ['extract-report/changed-input.xml', 'fred.com', '11038226378739404135', 'example.com', 20, 3047],
];

describe('corpus reports', () => {
  it.each(GOOD)('%s', (file, org, id, domain, rows, messages) => {
    const r = extractReportsFromFile(read(file), file);
    expect(r.problems).toEqual([]);
    expect(r.reports).toHaveLength(1);
    const rep = r.reports[0]!;
    expect(rep).toMatchObject({ orgName: org, reportId: id, domain });
    expect(rep.records).toHaveLength(rows);
    expect(rep.records.reduce((a, x) => a + x.count, 0)).toBe(messages);
  });

  it('reads every field of a full record', () => {
    const r = parseAggregateXml(read('aggregate/empty_reason.xml').toString('utf8'));
    expect(r).toEqual({
      orgName: 'example.org',
      email: 'noreply-dmarc-support@example.org',
      reportId: '20240125141224705995',
      begin: 1706159544,
      end: 1706185733,
      domain: 'example.com',
      policy: { adkim: 'r', aspf: 'r', p: 'quarantine', sp: 'quarantine', pct: 100 },
      records: [
        {
          sourceIp: '198.51.100.123',
          count: 2,
          disposition: 'none',
          dkim: 'pass',
          spf: 'fail',
          headerFrom: 'example.com',
          envelopeFrom: 'example.edu',
          authDkim: [{ domain: 'example.com', result: 'pass', selector: 'example' }],
          authSpf: [{ domain: 'example.edu', result: 'pass', scope: 'mfrom' }],
        },
      ],
    });
  });

  it('gives DMARCbis reports the RFC 7489 defaults for what they leave out', () => {
    const r = parseAggregateXml(read('aggregate/rfc9990-sample.xml').toString('utf8'));
    expect(isReportError(r)).toBe(false);
    if (isReportError(r)) return;
    expect(r.policy).toEqual({ adkim: 'r', aspf: 'r', p: 'quarantine', sp: 'none', pct: 100 });
    expect(r.records[0]).toMatchObject({ disposition: 'pass', dkim: 'pass', spf: 'fail', authDkim: [{ selector: 'abc123' }] });
  });

  it('reads values written in upper case', () => {
    const r = parseAggregateXml(read('aggregate-invalid/report_with_upper_cased_pass.xml').toString('utf8'));
    if (isReportError(r)) throw new Error(r.error);
    expect(r.records[0]).toMatchObject({ disposition: 'none', dkim: 'pass', spf: 'pass', authDkim: [{ result: 'pass' }], authSpf: [{ result: 'pass' }] });
    expect(r.policy.sp).toBe('reject'); // sp defaults to p
  });

  it('keeps invalid UTF-8 as replacement characters', () => {
    const r = extractReportsFromFile(read('aggregate/invalid_utf_8.xml'));
    expect(r.reports[0]!.records[0]!.headerFrom).toBe('bad_byte\uFFFD');
  });

  it('takes the attachment of a mailed report and ignores the text part', () => {
    const r = extractReports(read('aggregate/twilight.eml'));
    expect(r.reports.map((x) => x.domain)).toEqual(['twlnet.com']);
    expect(r.problems).toEqual([]);
  });
});

describe('broken reports give problems, not exceptions', () => {
  it('malformed XML', () => {
    const r = extractReportsFromFile(read('aggregate/invalid_xml.xml'), 'invalid_xml.xml');
    expect(r.reports).toEqual([]);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatch(/^invalid_xml\.xml: malformed XML/);
  });

  it('an empty file', () => {
    expect(extractReportsFromFile(read('aggregate-invalid/empty.xml'), 'empty.xml')).toEqual({ reports: [], problems: ['empty.xml: empty file'] });
    expect(parseAggregateXml('')).toEqual({ error: 'empty document' });
  });

  it('a message without a report', () => {
    const r = extractReports(Buffer.from('From: a@example.net\r\nSubject: hi\r\n\r\nhello\r\n'));
    expect(r).toEqual({ reports: [], problems: ['no report attachment (zip, gzip or xml) in the message'] });
  });

  it.each([
    ['no feedback element', '<?xml version="1.0"?><report/>', /no <feedback> element/],
    ['a missing report id', '<feedback><report_metadata><org_name>x</org_name><date_range><begin>1</begin><end>2</end></date_range></report_metadata><policy_published><domain>a.example</domain><p>none</p></policy_published></feedback>', /report_metadata\.report_id/],
    ['a bad source IP', xmlWith('<source_ip>999.1.1.1</source_ip>'), /record\.0\.row\.source_ip/],
    ['a negative count', xmlWith('<source_ip>192.0.2.1</source_ip><count>-1</count>'), /record\.0\.row\.count/],
    ['an unknown disposition', xmlWith('<source_ip>192.0.2.1</source_ip><count>1</count>', 'maybe'), /disposition/],
  ])('%s', (_n, xml, re) => {
    const r = parseAggregateXml(xml);
    expect(isReportError(r)).toBe(true);
    if (isReportError(r)) expect(r.error).toMatch(re);
  });

  it('a record count over the limit is refused before parsing', () => {
    const rec = '<record><row><source_ip>192.0.2.1</source_ip><count>1</count><policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated></row><identifiers><header_from>a.example</header_from></identifiers></record>';
    const xml = xmlWith('').replace(/<record>[\s\S]*<\/record>/, rec.repeat(11));
    expect(parseAggregateXml(xml, { maxRecords: 10 })).toEqual({ error: 'more than 10 records' });
    const ok = parseAggregateXml(xml, { maxRecords: 11 });
    expect(isReportError(ok) ? ok.error : ok.records.length).toBe(11);
  });
});

/** A minimal report whose first row starts with `rowStart` (source IP, count). */
function xmlWith(rowStart: string, disposition = 'none'): string {
  const row = rowStart.includes('<count>') ? rowStart : `${rowStart}<count>1</count>`;
  return `<feedback><report_metadata><org_name>r.example</org_name><email>d@r.example</email><report_id>1</report_id><date_range><begin>1</begin><end>2</end></date_range></report_metadata>
<policy_published><domain>a.example</domain><p>none</p></policy_published>
<record><row>${row}<policy_evaluated><disposition>${disposition}</disposition><dkim>pass</dkim><spf>fail</spf></policy_evaluated></row><identifiers><header_from>a.example</header_from></identifiers></record></feedback>`;
}
