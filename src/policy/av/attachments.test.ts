/**
 * The attachment policy: the rules on facts, and the stage through a real
 * worker pool (file-type in the worker; run npm run build first).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Direction } from '../../core/verdict.js';
import { PolicyPool } from '../pool/index.js';
import type { MessageEnvelope } from '../pipeline/stage.js';
import { attachmentsStage, blockedFile, type AttachmentRules } from './attachments.js';
import { DEFAULT_EXTRACT_LIMITS } from './parts.js';
import { bombZip, elfBytes, encryptedZip, macroDocx, message, peBytes, zip } from './testing/samples.js';
import { DEFAULT_BLOCK_EXTENSIONS, DEFAULT_BLOCK_TYPES } from '../../config/malware-static.js';

const rules = (over: Partial<AttachmentRules> = {}): AttachmentRules => ({
  enabled: true,
  action: 'reject',
  blockExtensions: new Set(DEFAULT_BLOCK_EXTENSIONS),
  blockTypes: new Set(DEFAULT_BLOCK_TYPES),
  blockUnreadableArchives: true,
  ...over,
});

const fact = (filename: string | null, trueType: string | null = null) => ({ path: '2', filename, declaredType: null, trueType, size: 1, encrypted: false });

describe('blockedFile', () => {
  it('blocks by last extension, calls a decoy before it a double extension', () => {
    const r = rules();
    expect(blockedFile(fact('setup.exe'), r)).toBe('extension');
    expect(blockedFile(fact('invoice.pdf.exe'), r)).toBe('double-extension');
    expect(blockedFile(fact('Invoice.PDF.EXE'), r)).toBe('double-extension');
    expect(blockedFile(fact('invoice.pdf   .exe. . '), r)).toBe('double-extension');
    // U+202E shows "invoice\u202Efdp.exe" as "invoiceexe.pdf".
    expect(blockedFile(fact('invoice\u202Efdp.exe'), r)).toBe('extension');
    expect(blockedFile(fact('q3 report.final.js'), r)).toBe('extension');
    expect(blockedFile(fact('invoice.exe.pdf'), r)).toBe(null);
    expect(blockedFile(fact('report.pdf'), r)).toBe(null);
    expect(blockedFile(fact(null), r)).toBe(null);
  });

  it('blocks by true type whatever the name', () => {
    expect(blockedFile(fact('photo.jpg', 'exe'), rules())).toBe('type');
    expect(blockedFile(fact(null, 'iso'), rules())).toBe('type');
    expect(blockedFile(fact('report.pdf', 'pdf'), rules())).toBe(null);
  });
});

describe('the attachments stage', () => {
  let pool: PolicyPool;
  beforeAll(() => {
    pool = PolicyPool.open({ threads: 1 });
  });
  afterAll(() => pool.close());

  const envelope: MessageEnvelope = { sender: 's@partner.test', recipients: ['alice@example.test'], helo: 'x', clientAddress: '127.0.0.1', listener: 'mx', authUser: null, tls: false };
  const stage = (over: Partial<Record<Direction, Partial<AttachmentRules>>> = {}) =>
    attachmentsStage({
      pool,
      phase: 'inline',
      budgetMs: 10_000,
      limits: DEFAULT_EXTRACT_LIMITS,
      rules: { inbound: rules(over.inbound), outbound: rules(over.outbound), internal: rules(over.internal) },
    });
  const run = (raw: Uint8Array, direction: Direction = 'inbound', s = stage()) =>
    s.run({ queueId: 'q1', raw, envelope, direction, earlier: [] }, { signal: new AbortController().signal, now: Date.now });

  it('rejects invoice.pdf.exe with 5.7.1 naming the file, and counts it', async () => {
    const v = await run(message([{ filename: 'invoice.pdf.exe', type: 'application/pdf', bytes: peBytes() }]));
    expect(v.action).toBe('reject');
    expect(v.reply).toBe('5.7.1 Attachment "invoice.pdf.exe" refused by policy (double-extension)');
    expect(v.events).toEqual([{ kind: 'attachment.blocked', labels: { rule: 'double-extension', direction: 'inbound', action: 'reject' } }]);
    expect(v.reasons[0]).toMatchObject({ rule: 'double-extension', part: '2/invoice.pdf.exe' });
  });

  it('finds by true type: a PE under .pdf, an ELF without a name, a macro document named .docx', async () => {
    expect((await run(message([{ filename: 'scan.pdf', type: 'application/pdf', bytes: peBytes() }]))).reasons[0]).toMatchObject({ rule: 'type', detail: 'scan.pdf' });
    expect((await run(message([{ type: 'application/octet-stream', bytes: elfBytes() }]))).reasons[0]).toMatchObject({ rule: 'type' });
    const docx = await run(message([{ filename: 'report.docx', type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', bytes: macroDocx() }]));
    expect(docx.reasons[0]).toMatchObject({ rule: 'type', detail: 'report.docx' });
  });

  it('looks inside archives, and names encrypted entries', async () => {
    const inner = await run(message([{ filename: 'docs.zip', type: 'application/zip', bytes: zip({ 'a/b/invoice.pdf.js': 'x' }) }]));
    expect(inner.reasons[0]).toMatchObject({ rule: 'double-extension', part: '2/docs.zip!a/b/invoice.pdf.js' });
    expect(inner.reply).toBe('5.7.1 Attachment "a/b/invoice.pdf.js" refused by policy (double-extension)');
    const locked = await run(message([{ filename: 'locked.zip', type: 'application/zip', bytes: encryptedZip('payload.exe') }]));
    expect(locked.reasons[0]).toMatchObject({ rule: 'extension', part: '2/locked.zip!payload.exe' });
    // An encrypted archive with harmless names passes this stage (the static engine reports it).
    expect((await run(message([{ filename: 'locked.zip', type: 'application/zip', bytes: encryptedZip('q3.pdf') }]))).action).toBe('pass');
  });

  it('blocks an archive it cannot open within its limits, unless told not to', async () => {
    const raw = message([{ filename: 'zeros.zip', type: 'application/zip', bytes: bombZip(1024) }]);
    const v = await run(raw);
    expect(v.reasons[0]).toMatchObject({ rule: 'archive-limit', part: '2/zeros.zip' });
    expect(v.reply).toBe('5.7.1 Attachment "zeros.zip" refused by policy (archive-limit)');
    expect((await run(raw, 'inbound', stage({ inbound: { blockUnreadableArchives: false } }))).action).toBe('pass');
  });

  it('applies each direction\'s lists and action', async () => {
    const raw = message([{ filename: 'build.exe', type: 'application/octet-stream', bytes: peBytes() }]);
    const s = stage({ outbound: { action: 'quarantine' }, internal: { blockExtensions: new Set(), blockTypes: new Set() } });
    expect((await run(raw, 'inbound', s)).action).toBe('reject');
    const out = await run(raw, 'outbound', s);
    expect(out.action).toBe('hold');
    expect(out.events[0]!.labels).toEqual({ rule: 'extension', direction: 'outbound', action: 'quarantine' });
    expect((await run(raw, 'internal', s)).action).toBe('pass');
  });

  it('does not take a text starting "MZ" for an executable', async () => {
    expect((await run(message([{ filename: 'notes.txt', type: 'text/plain', bytes: 'MZ postcodes list\n'.repeat(100) }]))).action).toBe('pass');
  });

  it('passes ordinary mail', async () => {
    const pdf = Buffer.from('%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
    const v = await run(message([{ filename: 'report.pdf', type: 'application/pdf', bytes: pdf }, { filename: 'a.zip', type: 'application/zip', bytes: zip({ 'x.csv': '1,2' }) }]));
    expect(v).toMatchObject({ action: 'pass', reasons: [], events: [] });
  });

  it('keeps a hostile file name out of the reply', async () => {
    // RFC 2231: a quote, CR LF and a non-ASCII letter in the decoded name.
    const raw = Buffer.from(
      'From: s@partner.test\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n' +
        "--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename*=utf-8''a%22%0D%0Ab%C3%A9.exe\r\n\r\nx\r\n--b--\r\n",
    );
    const v = await run(raw);
    expect(v.reasons[0]).toMatchObject({ rule: 'extension' });
    expect(v.reply).toMatch(/^5\.7\.1 Attachment "[\x20-\x7e]+" refused/);
    expect(v.reply).not.toMatch(/[\r\n]/);
  });
});
