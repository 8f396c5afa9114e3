/**
 * The static checks on real files built in the test, and the "static"
 * engine through a real worker pool (run npm run build first) with a
 * known-bad hash list on disk.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PolicyPool } from '../../pool/index.js';
import { EngineUnavailable } from '../engine.js';
import { DEFAULT_EXTRACT_LIMITS } from '../parts.js';
import { bombZip, elfBytes, encryptedZip, macroDocx, message, peBytes, smugglingHtml, zip } from '../testing/samples.js';
import { base64Volume } from './checks.js';
import { StaticEngine } from './engine.js';
import { HashListFile, parseHashList } from './hashes.js';
import { staticScan } from './task.js';
import { staticEngines } from './index.js';
import { parseConfig } from '../../../config/load.js';

const sigs = (raw: Uint8Array) => staticScan(raw, DEFAULT_EXTRACT_LIMITS).detections.map((d) => `${d.signature} ${d.part}`);

describe('static checks', () => {
  it('finds a macro document: OOXML with vbaProject.bin, by name .docm, OLE with _VBA_PROJECT', () => {
    expect(sigs(message([{ filename: 'report.docx', type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', bytes: macroDocx() }]))).toEqual([
      'macro-office-document 2/report.docx',
    ]);
    expect(sigs(message([{ filename: 'sheet.xlsm', type: 'application/octet-stream', bytes: zip({ 'xl/workbook.xml': '<x/>' }) }]))).toEqual([
      'macro-office-document 2/sheet.xlsm',
    ]);
    const ole = Buffer.alloc(4096);
    ole.set([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
    ole.write('_VBA_PROJECT', 2048, 'utf16le');
    expect(sigs(message([{ filename: 'old.doc', type: 'application/msword', bytes: ole }]))).toEqual(['macro-office-document 2/old.doc']);
    // The same document inside a zip is found there.
    expect(sigs(message([{ filename: 'docs.zip', type: 'application/zip', bytes: zip({ 'q3/report.docx': macroDocx() }) }]))).toEqual([
      'macro-office-document 2/docs.zip!q3/report.docx',
    ]);
  });

  it('finds an executable under a harmless name or type, not under its own', () => {
    expect(sigs(message([{ filename: 'invoice.pdf', type: 'application/pdf', bytes: peBytes() }]))).toEqual(['disguised-executable 2/invoice.pdf']);
    expect(sigs(message([{ filename: 'photo.jpg', type: 'application/octet-stream', bytes: elfBytes() }]))).toEqual(['disguised-executable 2/photo.jpg']);
    expect(sigs(message([{ type: 'text/plain', bytes: peBytes() }]))).toEqual(['disguised-executable 2']);
    expect(sigs(message([{ filename: 'a.zip', type: 'application/zip', bytes: zip({ 'scan.txt': peBytes() }) }]))).toEqual(['disguised-executable 2/a.zip!scan.txt']);
    expect(sigs(message([{ filename: 'setup.exe', type: 'application/x-msdownload', bytes: peBytes() }]))).toEqual([]);
    expect(sigs(message([{ filename: 'tool', type: 'application/octet-stream', bytes: elfBytes() }]))).toEqual([]);
    // "MZ" alone (a text that starts so) is not an executable.
    expect(sigs(message([{ filename: 'notes.txt', type: 'text/plain', bytes: 'MZ is a postcode prefix. '.repeat(10) }]))).toEqual([]);
  });

  it('finds HTML smuggling: a Blob download, a data: URI download, atob of a large payload', () => {
    expect(sigs(message([{ filename: 'document.html', type: 'text/html', bytes: smugglingHtml() }]))).toEqual(['html-smuggling 2/document.html']);
    const dataUri = `<html><script>var a=document.createElement('a');a.href='data:application/octet-stream;base64,TVqQAAMAAAAEAAAA';a.download='x.exe';a.click();</script></html>`;
    expect(sigs(message([{ filename: 'view.htm', type: 'application/octet-stream', bytes: dataUri }]))).toEqual(['html-smuggling 2/view.htm']);
    const atob = `<html><body onload="document.write(atob('${Buffer.alloc(40_000, 7).toString('base64')}'))"></body></html>`;
    expect(sigs(message([{ filename: 'page.html', type: 'text/html', bytes: atob }]))).toEqual(['html-smuggling 2/page.html']);
    // Ordinary HTML with an inline image and a script is not smuggling.
    const ordinary = `<html><script>console.log(document.title)</script><img src="data:image/png;base64,${Buffer.alloc(50_000, 1).toString('base64')}"></html>`;
    expect(sigs(message([{ filename: 'newsletter.html', type: 'text/html', bytes: ordinary }]))).toEqual([]);
    // An HTML message body (not an attachment) runs no script in a mail client.
    expect(sigs(message([], smugglingHtml()))).toEqual([]);
  });

  it('reports archives it cannot scan: encrypted, a bomb, too deep', () => {
    expect(sigs(message([{ filename: 'locked.zip', type: 'application/zip', bytes: encryptedZip() }]))).toEqual(['encrypted-archive 2/locked.zip']);
    expect(sigs(message([{ filename: 'zeros.zip', type: 'application/zip', bytes: bombZip(64) }]))).toEqual(['zip-bomb 2/zeros.zip']);
    let z = zip({ 'a.txt': 'a' });
    for (let i = 0; i < 4; i++) z = zip({ 'n.zip': z });
    expect(sigs(message([{ filename: 'deep.zip', type: 'application/zip', bytes: z }]))).toEqual(['archive-too-deep 2/deep.zip!n.zip!n.zip!n.zip']);
  });

  it('a clean message with ordinary attachments has no detection', () => {
    const pdf = Buffer.from('%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
    expect(sigs(message([{ filename: 'report.pdf', type: 'application/pdf', bytes: pdf }, { filename: 'data.zip', type: 'application/zip', bytes: zip({ 'a.csv': '1,2,3\n' }) }]))).toEqual([]);
  });

  it('measures base64 in one linear pass', () => {
    expect(base64Volume(`x ${'A'.repeat(99)} y ${'B'.repeat(100)} z`)).toBe(100);
    // 4 MiB of runs just under the threshold: fast and zero.
    const t = Date.now();
    expect(base64Volume(`${'A'.repeat(99)}.`.repeat(40_000))).toBe(0);
    expect(Date.now() - t).toBeLessThan(5_000);
  });
});

describe('hash list', () => {
  it('reads digests with optional names, skips comments and reports bad lines', () => {
    const h = 'a'.repeat(64);
    const l = parseHashList(`# list\n${h} Bad Thing\n\n${'B'.repeat(64)}\nnot a digest\n${'c'.repeat(63)}\n`);
    expect([...l.names]).toEqual([
      [h, 'Bad Thing'],
      ['b'.repeat(64), ''],
    ]);
    expect(l.badLines).toEqual([5, 6]);
  });
});

describe('StaticEngine through the worker pool', () => {
  let pool: PolicyPool;
  let dir: string;
  beforeAll(() => {
    pool = PolicyPool.open({ threads: 1 });
    dir = mkdtempSync(path.join(tmpdir(), 'postern-static-'));
  });
  afterAll(async () => {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('matches a part by its SHA-256 from the administrator\'s list, and sees the list change', async () => {
    const payload = Buffer.from('a perfectly ordinary looking text that is known to be bad\n');
    const digest = createHash('sha256').update(payload).digest('hex');
    const file = path.join(dir, 'bad-hashes.txt');
    writeFileSync(file, `# known bad\n${'0'.repeat(64)} Something else\n`);
    let clock = 1_000_000;
    const engine = new StaticEngine({ pool, limits: DEFAULT_EXTRACT_LIMITS, budgetMs: 10_000, hashes: new HashListFile(file, () => clock) });
    const raw = message([{ filename: 'files.zip', type: 'application/zip', bytes: zip({ 'readme.txt': payload }) }]);
    const signal = new AbortController().signal;
    expect((await engine.scan(raw, signal)).detections).toEqual([]);
    writeFileSync(file, `${digest} Dropper.Readme\n`);
    utimesSync(file, new Date(), new Date(Date.now() + 5_000));
    clock += 11_000; // past the recheck interval
    const r = await engine.scan(raw, signal);
    expect(r.detections).toEqual([{ engine: 'static', signature: 'known-bad-hash:Dropper.Readme', part: '2/files.zip!readme.txt' }]);
    expect(r.version).toBe('static-1/1 hashes');
    const h = await engine.health();
    expect(h.up).toBe(true);
    expect(h.signaturesAt).toBeGreaterThan(0);
  });

  it('is unavailable when its hash list is missing (fails closed), and says which key', async () => {
    const engine = new StaticEngine({ pool, limits: DEFAULT_EXTRACT_LIMITS, budgetMs: 10_000, hashes: new HashListFile(path.join(dir, 'nope.txt')) });
    await expect(engine.scan(message([]), new AbortController().signal)).rejects.toBeInstanceOf(EngineUnavailable);
    const h = await engine.health();
    expect(h.up).toBe(false);
    expect(h.detail).toMatch(/bad_hashes_file .*nope\.txt/);
  });

  it('is unavailable when its worker runs out of time or is aborted', async () => {
    const engine = new StaticEngine({ pool, limits: DEFAULT_EXTRACT_LIMITS, budgetMs: 10_000, hashes: null });
    const ac = new AbortController();
    ac.abort();
    await expect(engine.scan(message([]), ac.signal)).rejects.toBeInstanceOf(EngineUnavailable);
  });

  it('finds the static checks through the pool', async () => {
    const raw = message([{ filename: 'invoice.pdf', type: 'application/pdf', bytes: peBytes() }]);
    const r = await engine().scan(raw, new AbortController().signal);
    expect(r.detections).toEqual([{ engine: 'static', signature: 'disguised-executable', part: '2/invoice.pdf' }]);
    function engine() {
      return new StaticEngine({ pool, limits: DEFAULT_EXTRACT_LIMITS, budgetMs: 10_000, hashes: null });
    }
  });
});

describe('staticEngines', () => {
  it('builds the engines the config enables, in order', async () => {
    const cfg = (extra: string) => {
      const r = parseConfig(`[server]\nhostname = "mail.example.org"\n${extra}`, '/etc/postern');
      if (!r.ok) throw new Error(JSON.stringify(r.errors));
      return r.config;
    };
    const pool = PolicyPool.open({ threads: 1 });
    try {
      expect(staticEngines(cfg(''), pool).map((e) => e.name)).toEqual(['static']);
      expect(staticEngines(cfg('[policy.malware.yara]\nenabled = true\n'), pool).map((e) => e.name)).toEqual(['static', 'yara']);
      expect(staticEngines(cfg('[policy.malware.static]\nenabled = false\n'), pool)).toEqual([]);
    } finally {
      await pool.close();
    }
  });
});
