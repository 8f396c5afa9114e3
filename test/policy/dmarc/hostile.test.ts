/**
 * Hostile reports: entity tricks are refused outright, compression bombs stop
 * at the limit (checked by how many bytes were inflated), and random bytes
 * never make the parsers throw.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { gzipSync, zipSync } from 'fflate';
import { extractReports, extractReportsFromFile, gunzipBounded, parseAggregateXml, unzipBounded, type InflateStats } from '../../../src/policy/dmarc-report/index.js';

const MiB = 1024 * 1024;
const REPORT = `<feedback><report_metadata><org_name>r.example</org_name><email>d@r.example</email><report_id>&xxe;</report_id><date_range><begin>1</begin><end>2</end></date_range></report_metadata><policy_published><domain>a.example</domain><p>none</p></policy_published></feedback>`;

describe('entities', () => {
  it('refuses an external entity (XXE)', () => {
    const xml = `<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n${REPORT}`;
    expect(parseAggregateXml(xml)).toEqual({ error: expect.stringMatching(/DOCTYPE or ENTITY/) });
  });

  it('refuses billion laughs', () => {
    const defs = ['<!ENTITY lol "lol">', ...Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`)].join('\n');
    const xml = `<?xml version="1.0"?>\n<!DOCTYPE lolz [\n${defs}\n]>\n${REPORT.replace('&xxe;', '&lol9;')}`;
    expect(parseAggregateXml(xml)).toEqual({ error: expect.stringMatching(/DOCTYPE or ENTITY/) });
  });

  it('refuses the declaration in any case and inside a mailed gzip', () => {
    const xml = `<!doctype feedback>${REPORT.replace('&xxe;', '1')}`;
    expect(parseAggregateXml(xml)).toEqual({ error: expect.stringMatching(/DOCTYPE/) });
    const mail = mailWith('application/gzip', 'r.xml.gz', gzipSync(Buffer.from(xml)));
    const r = extractReports(mail);
    expect(r.reports).toEqual([]);
    expect(r.problems).toEqual([expect.stringMatching(/r\.xml\.gz.*DOCTYPE/)]);
  });

  it('refuses element names that would reach an object prototype', () => {
    const xml = REPORT.replace('&xxe;', '1').replace('<report_metadata>', '<__proto__><polluted>1</polluted></__proto__><report_metadata>');
    expect(parseAggregateXml(xml)).toEqual({ error: expect.stringMatching(/^malformed XML: .*__proto__/) });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('leaves undeclared entities as text and decodes the predefined ones', () => {
    const r = parseAggregateXml(REPORT.replace('r.example</org_name>', 'AT&amp;T &#x41;</org_name>'));
    expect(r).toMatchObject({ orgName: 'AT&T A', reportId: '&xxe;' });
  });
});

describe('element floods', () => {
  it('refuses a document with far more elements than its records need, before parsing it', () => {
    const xml = REPORT.replace('&xxe;', '1').replace('</org_name>', `${'<a/>'.repeat(2000)}</org_name>`);
    expect(parseAggregateXml(xml)).toEqual({ error: '2011 elements for 0 records: more than a report has' });
  });
});

describe('compression bombs', () => {
  // 100 MB of zeros: about 100 KB compressed.
  const zeros = new Uint8Array(100_000_000);
  let zipped: Uint8Array | undefined;
  const bomb = () => (zipped ??= zipSync({ 'report.xml': zeros }, { level: 9 })).slice();

  it('a zip bomb that declares its size is refused before inflating', () => {
    const zip = bomb();
    expect(zip.length).toBeLessThan(MiB);
    const stats: InflateStats = { produced: 0 };
    const r = unzipBounded(zip, { maxEntries: 5, maxEntryBytes: 20 * MiB, accept: () => true, stats });
    expect(r).toEqual({ ok: false, error: expect.stringMatching(/declares 100000000 bytes/) });
    expect(stats.produced).toBe(0);
  });

  it('a zip bomb that lies about its size stops at the limit', () => {
    const zip = bomb();
    lieAboutSize(zip, 1000);
    const stats: InflateStats = { produced: 0 };
    const r = unzipBounded(zip, { maxEntries: 5, maxEntryBytes: 20 * MiB, accept: () => true, stats });
    expect(r).toEqual({ ok: false, error: expect.stringMatching(/more than 20971520 bytes/) });
    expect(stats.produced).toBeGreaterThan(20 * MiB);
    expect(stats.produced).toBeLessThan(22 * MiB); // the limit plus one step, never 100 MB
    // And mailed, through the whole path.
    const mail = mailWith('application/zip', 'bomb.zip', zip);
    expect(extractReports(mail).problems).toEqual([expect.stringMatching(/bomb\.zip.*more than 20971520 bytes/)]);
  });

  it('a gzip bomb stops at the limit', () => {
    const gz = gzipSync(zeros, { level: 9 });
    const stats: InflateStats = { produced: 0 };
    expect(gunzipBounded(gz, 20 * MiB, stats)).toEqual({ ok: false, error: expect.stringMatching(/more than/) });
    expect(stats.produced).toBeLessThan(22 * MiB);
    expect(extractReportsFromFile(gz, 'bomb.xml.gz').problems).toEqual([expect.stringMatching(/^bomb\.xml\.gz: gzip: decompresses to more than/)]);
  });

  it('takes at most 5 entries and only .xml ones', () => {
    const x = Buffer.from(REPORT.replace('&xxe;', '1'));
    const six = zipSync(Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`r${i}.xml`, x])));
    expect(extractReportsFromFile(six, 'six.zip').problems).toEqual(['six.zip: zip: more than 5 report entries']);
    const mixed = zipSync({ 'evil.exe': new Uint8Array(10), 'r.xml': x });
    const r = extractReportsFromFile(mixed, 'mixed.zip');
    expect(r.reports).toHaveLength(1);
    expect(r.problems).toEqual(['mixed.zip: skipped "evil.exe" (not .xml)']);
  });

  it('trusts magic bytes over a mislabelled attachment', () => {
    const x = Buffer.from(REPORT.replace('&xxe;', 'mislabelled'));
    const r = extractReports(mailWith('application/gzip', 'r.xml.gz', zipSync({ 'r.xml': x })));
    expect(r.problems).toEqual([]);
    expect(r.reports.map((y) => y.reportId)).toEqual(['mislabelled']);
    expect(extractReports(mailWith('application/zip', 'r.zip', gzipSync(x))).reports).toHaveLength(1);
  });

  it('takes at most 5 report parts from a message and refuses oversized parts', () => {
    const x = Buffer.from(REPORT.replace('&xxe;', '1'));
    const parts = Array.from({ length: 7 }, (_, i) => ({ type: 'text/xml', name: `r${i}.xml`, data: x }));
    const r = extractReports(multipart(parts));
    expect(r.reports).toHaveLength(5); // the same report each time: the store keeps it once
    expect(r.problems).toEqual(['more than 5 report parts: part 6 ("r5.xml") and later ones ignored']);
    expect(extractReports(multipart(parts.slice(0, 2))).problems).toEqual([]);
    const r3 = extractReports(mailWith('text/xml', 'big.xml', x), { maxCompressedBytes: 100 });
    expect(r3.problems).toEqual([expect.stringMatching(/big\.xml.*larger than 100 bytes/)]);
  });
});

describe('random input', () => {
  it('never throws, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (b) => {
        for (const r of [extractReports(b), extractReportsFromFile(b)]) {
          expect(Array.isArray(r.reports) && Array.isArray(r.problems)).toBe(true);
        }
        expect(typeof unzipBounded(b, { maxEntries: 5, maxEntryBytes: MiB, accept: () => true }).ok).toBe('boolean');
        expect(typeof gunzipBounded(b, MiB).ok).toBe('boolean');
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on mangled reports', () => {
    const base = REPORT.replace('&xxe;', '1');
    fc.assert(
      fc.property(fc.nat(base.length), fc.nat(base.length), fc.string({ maxLength: 30 }), (a, b, ins) => {
        const s = base.slice(0, Math.min(a, b)) + ins + base.slice(Math.max(a, b));
        const r = parseAggregateXml(s);
        expect(typeof r).toBe('object');
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws on corrupted gzip and zip reports', () => {
    const xml = Buffer.from(REPORT.replace('&xxe;', '1'));
    const gz = gzipSync(xml);
    const zip = zipSync({ 'r.xml': xml });
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 0, max: 255 }), (at, v) => {
        for (const f of [gz, zip]) {
          const c = f.slice();
          c[at % c.length] = v;
          const r = extractReportsFromFile(c);
          expect(r.reports.length + r.problems.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

/** Sets the uncompressed size in the central directory and local header to `size`. */
function lieAboutSize(zip: Uint8Array, size: number): void {
  const dv = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  dv.setUint32(22, size, true); // local header
  for (let i = zip.length - 22; i >= 0; i--) {
    if (dv.getUint32(i, true) === 0x02014b50) {
      dv.setUint32(i + 24, size, true);
      break;
    }
  }
}

function mailWith(type: string, name: string, data: Uint8Array): Buffer {
  return Buffer.from(
    `From: noreply@r.example\r\nTo: dmarc@a.example\r\nSubject: Report\r\nMIME-Version: 1.0\r\nContent-Type: ${type}\r\n` +
      `Content-Disposition: attachment; filename="${name}"\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64(data)}\r\n`,
  );
}

function multipart(parts: { type: string; name: string; data: Uint8Array }[]): Buffer {
  const body = parts
    .map((p) => `--b\r\nContent-Type: ${p.type}\r\nContent-Disposition: attachment; filename="${p.name}"\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64(p.data)}\r\n`)
    .join('');
  return Buffer.from(`From: noreply@r.example\r\nSubject: Reports\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n${body}--b--\r\n`);
}

const b64 = (d: Uint8Array) => (Buffer.from(d).toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
