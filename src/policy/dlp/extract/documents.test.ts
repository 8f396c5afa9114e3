import { gzipSync, strToU8, zipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONTENT_LIMITS, extractContent, extractDocument } from './index.js';
import { allText, commandFile, findingsOf, message, pythonFile } from './testing/make.js';

const L = DEFAULT_CONTENT_LIMITS;
const CARD = '4111 1111 1111 1111';

/** A 50-page PDF (reportlab) with the card number on page 37 only. */
const PDF50 = `
from reportlab.pdfgen import canvas
c = canvas.Canvas(OUT)
for p in range(1, 51):
    c.drawString(72, 760, 'Page %d of the quarterly report.' % p)
    for j in range(30):
        c.drawString(72, 740 - j * 20, 'Line %d of page %d: the quick brown fox jumps over the lazy dog.' % (j, p))
    if p == 37:
        c.drawString(72, 60, 'Card on file: ${CARD}')
    c.showPage()
c.save()
`;

const DOCX = `
import docx
d = docx.Document()
d.sections[0].header.paragraphs[0].text = 'Header: internal use only'
d.sections[0].footer.paragraphs[0].text = 'Footer: page footer text'
for i in range(30):
    p = d.add_paragraph('Paragraph %d: lorem ipsum dolor sit amet, consectetur adipiscing elit.' % i)
    if i == 17:
        r = p.add_run(' Card:')
        r.add_tab()
        p.add_run('${CARD} & <more>')
t = d.add_table(rows=2, cols=2)
t.cell(0, 0).text = 'IBAN'
t.cell(0, 1).text = 'DE89 3704 0044 0532 0130 00'
d.save(OUT)
`;

const XLSX = `
import openpyxl
wb = openpyxl.Workbook()
ws = wb.active
ws.title = 'Cards'
ws['A1'] = 'Name'
ws['B1'] = 'Card'
ws['A2'] = 'Alice'
ws['B2'] = 4111111111111111
ws['C2'] = 12.5
ws2 = wb.create_sheet('Notes')
ws2['A1'] = 'second sheet text'
wb.save(OUT)
`;

let pdf50: Uint8Array;
let docx: Uint8Array;

beforeAll(() => {
  pdf50 = pythonFile(PDF50, 'report.pdf');
  docx = pythonFile(DOCX, 'plan.docx');
});

describe('office documents', () => {
  it('DOCX: body paragraphs, tab, table, header and footer; found by bytes whatever the name', async () => {
    for (const name of ['plan.docx', 'plan.txt']) {
      const c = await extractDocument(docx, name, L);
      expect(c.findings).toEqual([]);
      const t = allText(c);
      expect(t).toContain(`Paragraph 17: lorem ipsum dolor sit amet, consectetur adipiscing elit. Card:\t${CARD} & <more>\n`);
      expect(t).toContain('Paragraph 29');
      expect(t).toContain('IBAN\tDE89 3704 0044 0532 0130 00');
      expect(t).toContain('Header: internal use only');
      expect(t).toContain('Footer: page footer text');
      expect(c.segments.map((s) => s.source)).toEqual([`attachment:${name}`]);
    }
  });

  it('XLSX: shared strings, inline text and numbers, a row per line', async () => {
    const c = await extractDocument(pythonFile(XLSX, 'cards.xlsx'), 'cards.xlsx', L);
    expect(c.findings).toEqual([]);
    const t = allText(c);
    expect(t).toContain('Name\tCard\n');
    expect(t).toContain('Alice\t4111111111111111\t12.5\n');
    expect(t).toContain('second sheet text');
  });

  it('PPTX and ODT: slides in order, notes, OpenDocument content', async () => {
    const slide = (s: string) => strToU8(`<p:sld xmlns:a="a" xmlns:p="p"><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>${s}</a:t></a:r></a:p><a:p><a:r><a:t>second line</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>`);
    const pptx = zipSync({
      '[Content_Types].xml': strToU8('<Types/>'),
      'ppt/presentation.xml': strToU8('<p:presentation xmlns:p="p"/>'),
      'ppt/slides/slide10.xml': slide('slide ten'),
      'ppt/slides/slide2.xml': slide(`slide two ${CARD}`),
      'ppt/notesSlides/notesSlide1.xml': slide('speaker notes'),
    });
    const p = allText(await extractDocument(pptx, 'deck.pptx', L));
    expect(p.indexOf('slide two')).toBeLessThan(p.indexOf('slide ten'));
    expect(p).toContain(`slide two ${CARD}\nsecond line\n`);
    expect(p).toContain('speaker notes');
    const odt = zipSync({
      mimetype: strToU8('application/vnd.oasis.opendocument.text'),
      'content.xml': strToU8('<office:document-content xmlns:text="t" xmlns:office="o"><office:body><office:text><text:h>Title</text:h><text:p>Card<text:tab/>4111<text:s/>1111 <text:span>1111</text:span> 1111</text:p></office:text></office:body></office:document-content>'),
    });
    expect(allText(await extractDocument(odt, 'x.odt', L))).toBe('Title\nCard\t4111 1111 1111 1111\n');
  });

  it('an encrypted OpenDocument file is an encrypted finding', async () => {
    const odt = zipSync({
      mimetype: strToU8('application/vnd.oasis.opendocument.text'),
      'content.xml': new Uint8Array([1, 2, 3]),
      'META-INF/manifest.xml': strToU8('<manifest:file-entry><manifest:encryption-data/></manifest:file-entry>'),
    });
    expect(findingsOf(await extractDocument(odt, 'x.odt', L))).toEqual(['encrypted attachment:x.odt']);
  });

  it('password-protected Office (an OLE file with an EncryptedPackage stream) is encrypted; legacy binary Office is unreadable', async () => {
    const ole = (stream: string) => {
      const b = Buffer.alloc(4096);
      b.set([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
      b.write(stream, 1024, 'utf16le');
      return new Uint8Array(b);
    };
    expect(findingsOf(await extractDocument(ole('EncryptedPackage'), 'locked.docx', L))).toEqual(['encrypted attachment:locked.docx']);
    expect(findingsOf(await extractDocument(ole('WordDocument'), 'old.doc', L))).toEqual(['unreadable attachment:old.doc']);
  });

  it('a DOCX attached to a message is found by its bytes under a misleading type', async () => {
    const b64 = Buffer.from(docx).toString('base64').replace(/.{76}/g, '$&\r\n');
    const raw = message(
      ['Subject: plan', 'Content-Type: multipart/mixed; boundary=b'],
      `--b\nContent-Type: text/plain\n\nsee attached\n--b\nContent-Type: application/octet-stream; name="notes.bin"\nContent-Transfer-Encoding: base64\n\n${b64}\n--b--\n`,
    );
    const c = await extractContent(raw, L);
    expect(c.segments.find((s) => s.text.includes(CARD))?.source).toBe('attachment:2/notes.bin');
  });
});

describe('PDF', () => {
  it('reads every page of a 50-page PDF; the card is on page 37', async () => {
    const c = await extractDocument(pdf50, 'report.pdf', L);
    expect(c.findings).toEqual([]);
    const t = allText(c);
    const at = t.indexOf(CARD);
    expect(at).toBeGreaterThan(t.indexOf('Page 37 of'));
    expect(at).toBeLessThan(t.indexOf('Page 38 of'));
    expect(t).toContain('Line 29 of page 50');
  });

  it('reads a PDF handed over as a Buffer (what MIME decoding and readFile give), and leaves it intact', async () => {
    const buf = Buffer.from(pdf50);
    const c = await extractDocument(buf, 'report.pdf', L);
    expect(c.findings).toEqual([]);
    expect(allText(c)).toContain(CARD);
    expect(Buffer.compare(buf, Buffer.from(pdf50))).toBe(0);
  });

  it('stops at maxPdfPages with a truncated finding', async () => {
    const c = await extractDocument(pdf50, 'report.pdf', { ...L, maxPdfPages: 30 });
    expect(findingsOf(c)).toEqual(['truncated attachment:report.pdf']);
    expect(allText(c)).not.toContain(CARD);
    expect(allText(c)).toContain('Line 29 of page 30');
  });

  it('a password-protected PDF is encrypted; an owner-password-only PDF is read', async () => {
    const enc = (user: string) => pythonFile(
      `from reportlab.pdfgen import canvas\nfrom reportlab.lib import pdfencrypt\nc = canvas.Canvas(OUT, encrypt=pdfencrypt.StandardEncryption(${JSON.stringify(user)}, ownerPassword='owner'))\nc.drawString(72, 720, 'Card ${CARD}')\nc.showPage()\nc.save()`,
      'e.pdf',
    );
    const locked = await extractDocument(enc('secret'), 'locked.pdf', L);
    expect(findingsOf(locked)).toEqual(['encrypted attachment:locked.pdf']);
    expect(locked.segments).toEqual([]);
    const open = await extractDocument(enc(''), 'open.pdf', L);
    expect(open.findings).toEqual([]);
    expect(allText(open)).toContain(CARD);
  });

  it('a corrupt PDF is unreadable', async () => {
    const c = await extractDocument(strToU8('%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage'), 'bad.pdf', L);
    expect(findingsOf(c)).toEqual(['unreadable attachment:bad.pdf']);
  });
});

describe('archives', () => {
  it('reads the plain entries of a ZIP with an encrypted entry, and names the encrypted one', async () => {
    const zip = commandFile('zip', ['-q', 'files.zip', 'open.txt'], { 'open.txt': `open ${CARD}\n` }, 'files.zip');
    const both = commandFile('/bin/sh', ['-c', 'cp in.zip files.zip && zip -q -e -P pw files.zip secret.txt'], { 'in.zip': zip, 'secret.txt': 'hidden text\n' }, 'files.zip');
    const c = await extractDocument(both, 'files.zip', L);
    expect(c.segments.map((s) => s.source)).toEqual(['attachment:files.zip!open.txt']);
    expect(allText(c)).toContain(CARD);
    expect(c.findings).toEqual([{ kind: 'encrypted', part: 'attachment:files.zip', detail: '1 encrypted entries: secret.txt' }]);
  });

  it('walks a ZIP inside a ZIP, gzip inside, up to the depth limit', async () => {
    const deep = zipSync({ 'deep.txt': strToU8('level three') });
    const mid = zipSync({ 'mid.zip': deep, 'log.txt.gz': gzipSync(strToU8(`gz ${CARD}`)) });
    const top = zipSync({ 'top.txt': strToU8('level one'), 'mid.zip': mid });
    const c = await extractDocument(top, 'top.zip', L);
    expect(c.segments.map((s) => `${s.source}=${s.text}`)).toEqual([
      'attachment:top.zip!top.txt=level one',
      'attachment:top.zip!mid.zip!mid.zip!deep.txt=level three',
      `attachment:top.zip!mid.zip!log.txt.gz!log.txt=gz ${CARD}`,
    ]);
    const shallow = await extractDocument(top, 'top.zip', { ...L, maxArchiveDepth: 2 });
    expect(findingsOf(shallow)).toEqual(['archive-limit attachment:top.zip!mid.zip!mid.zip', 'archive-limit attachment:top.zip!mid.zip!log.txt.gz']);
    expect(allText(shallow)).not.toContain('level three');
  });

  it('a zip bomb is a finding, read no further than the limits', async () => {
    const zeros = new Uint8Array(30 * 1024 * 1024);
    const bomb = zipSync({ 'a.txt': strToU8('before'), 'zeros.bin': zeros, 'z.txt': strToU8('after') }, { level: 9 });
    expect(bomb.length).toBeLessThan(100_000);
    const c = await extractDocument(bomb, 'bomb.zip', L);
    expect(findingsOf(c)).toEqual(['archive-limit attachment:bomb.zip']);
    expect(c.findings[0]!.detail).toMatch(/zeros\.bin declares 31457280 bytes/);
    // A directory that lies about the size is stopped while inflating.
    const lying = Buffer.from(bomb);
    const cen = lying.lastIndexOf(Buffer.from('zeros.bin')) - 46;
    lying.writeUInt32LE(1000, cen + 24);
    const l = await extractDocument(lying, 'bomb.zip', L);
    expect(findingsOf(l)).toEqual(['archive-limit attachment:bomb.zip']);
    expect(l.findings[0]!.detail).toMatch(/more than/);
  });

  it('reads a .tgz (gzip, then TAR entries)', async () => {
    const tgz = commandFile('tar', ['czf', 'x.tgz', 'a.txt', 'b.txt'], { 'a.txt': 'first file\n', 'b.txt': `second ${CARD}\n` }, 'x.tgz');
    const c = await extractDocument(tgz, 'x.tgz', L);
    expect(c.findings).toEqual([]);
    expect(c.segments.map((s) => `${s.source}=${s.text}`)).toEqual(['attachment:x.tgz!x.tar!a.txt=first file\n', `attachment:x.tgz!x.tar!b.txt=second ${CARD}\n`]);
  });

  it('counts entries across archives', async () => {
    const files = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`f${i}.txt`, strToU8(`file ${i}`)]));
    const c = await extractDocument(zipSync(files), 'many.zip', { ...L, maxEntries: 4 });
    expect(findingsOf(c)).toEqual(['archive-limit attachment:many.zip']);
    expect(c.segments).toHaveLength(4);
  });

  it('an attached .eml inside a ZIP is read as a message', async () => {
    const eml = strToU8('Subject: old thread\r\nContent-Type: text/plain\r\n\r\nquoted card 4111 1111 1111 1111\r\n');
    const c = await extractDocument(zipSync({ 'thread.eml': eml }), 'mail.zip', L);
    expect(c.segments.map((s) => `${s.kind} ${s.source}`)).toEqual(['body attachment:mail.zip!thread.eml!subject', 'body attachment:mail.zip!thread.eml!1']);
    expect(allText(c)).toContain('quoted card');
  });
});

describe('single files', () => {
  it('text, UTF-16 with BOM, HTML, an .eml file, and binary that is not text', async () => {
    expect(allText(await extractDocument(strToU8('a,b\n1,2\n'), 'x.csv', L))).toBe('a,b\n1,2\n');
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('Grüße', 'utf16le')]);
    expect(allText(await extractDocument(utf16, 'x.txt', L))).toBe('Grüße');
    expect(allText(await extractDocument(strToU8('<!DOCTYPE html><p>a&amp;b</p>'), 'x.dat', L))).toBe('\na&b\n');
    const eml = await extractDocument(strToU8('Subject: hi\r\n\r\nbody\r\n'), 'm.eml', L);
    expect(eml.subject).toBe('hi');
    expect(allText(eml)).toBe('hi\nbody\r\n');
    const elf = new Uint8Array(4096);
    elf.set([0x7f, 0x45, 0x4c, 0x46]);
    expect(await extractDocument(elf, 'readme.txt', L)).toEqual({ headers: [], subject: '', segments: [], findings: [], chars: 0 });
  });
});
