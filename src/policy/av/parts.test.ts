import { describe, expect, it } from 'vitest';
import { inflateRawSync } from 'node:zlib';
import { extractParts, limitsFrom, DEFAULT_EXTRACT_LIMITS } from './parts.js';
import { bombZip, encryptedZip, message, zerosDeflated, zip } from './testing/samples.js';

const MiB = 1024 * 1024;

describe('extractParts', () => {
  it('decodes MIME parts and opens nested zips, naming each part by path', () => {
    const inner = zip({ 'readme.txt': 'inner text' });
    const outer = zip({ 'docs/inner.zip': inner, 'note.txt': 'outer text' });
    const x = extractParts(message([{ filename: 'files.zip', type: 'application/zip', bytes: outer }]));
    expect(x.findings).toEqual([]);
    const paths = x.parts.map((p) => p.path);
    expect(paths).toEqual(['1', '2/files.zip', '2/files.zip!docs/inner.zip', '2/files.zip!docs/inner.zip!readme.txt', '2/files.zip!note.txt']);
    const readme = x.parts.find((p) => p.filename === 'readme.txt')!;
    expect(Buffer.from(readme.bytes).toString()).toBe('inner text');
    expect(readme.archiveDepth).toBe(2);
    expect(x.parts[0]!.attachment).toBe(false);
    expect(x.parts[1]!.declaredType).toBe('application/zip');
  });

  it('does not open an archive nested deeper than the limit: archive-too-deep', () => {
    let z = zip({ 'payload.exe': 'MZ' });
    for (let i = 0; i < 4; i++) z = zip({ [`level${i}.zip`]: z });
    const x = extractParts(message([{ filename: 'deep.zip', type: 'application/zip', bytes: z }]), { ...DEFAULT_EXTRACT_LIMITS, maxArchiveDepth: 3 });
    expect(x.findings.map((f) => f.kind)).toEqual(['archive-too-deep']);
    expect(x.parts.some((p) => p.filename === 'payload.exe')).toBe(false);
    const deeper = extractParts(message([{ filename: 'deep.zip', type: 'application/zip', bytes: z }]), { ...DEFAULT_EXTRACT_LIMITS, maxArchiveDepth: 5 });
    expect(deeper.findings).toEqual([]);
    expect(deeper.parts.some((p) => p.filename === 'payload.exe')).toBe(true);
  });

  it('the bomb sample is what it claims: valid deflate of that many zeros', () => {
    const out = inflateRawSync(zerosDeflated(3));
    expect(out.length).toBe(3 * MiB);
    expect(out.every((b) => b === 0)).toBe(true);
  });

  it('refuses a 1 GiB entry by its declared size, without inflating it', () => {
    const bomb = bombZip(1024);
    expect(bomb.length).toBeLessThan(2 * MiB);
    const stats = { produced: 0 };
    const x = extractParts(message([{ filename: 'zeros.zip', type: 'application/zip', bytes: bomb }]), DEFAULT_EXTRACT_LIMITS, stats);
    expect(x.findings.map((f) => f.kind)).toEqual(['zip-bomb']);
    expect(stats.produced).toBe(0);
    expect(x.bytes).toBeLessThan(4 * MiB);
  });

  it('stops a 1 GiB entry that declares 1 KiB at the first MiB past its declaration', () => {
    const liar = bombZip(1024, 1024);
    const stats = { produced: 0 };
    const before = process.memoryUsage().rss;
    const x = extractParts(message([{ filename: 'small.zip', type: 'application/zip', bytes: liar }]), DEFAULT_EXTRACT_LIMITS, stats);
    expect(x.findings.map((f) => f.kind)).toEqual(['zip-bomb']);
    expect(stats.produced).toBeLessThan(2 * MiB);
    // Memory: nowhere near the 1 GiB the entry would inflate to.
    expect(process.memoryUsage().rss - before).toBeLessThan(256 * MiB);
  });

  it('holds the ratio: 50 MiB of zeros declared truthfully is more than 100:1', () => {
    const x = extractParts(message([{ filename: 'z.zip', type: 'application/zip', bytes: bombZip(50) }]));
    expect(x.findings[0]!.kind).toBe('zip-bomb');
    expect(x.findings[0]!.detail).toMatch(/declares 52428800 bytes/);
    const lax = extractParts(message([{ filename: 'z.zip', type: 'application/zip', bytes: bombZip(50) }]), { ...DEFAULT_EXTRACT_LIMITS, maxRatio: 100_000 });
    expect(lax.findings).toEqual([]);
    expect(lax.bytes).toBeGreaterThanOrEqual(50 * MiB);
  });

  it('holds the total: many entries that each pass the ratio but together exceed the budget', () => {
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i < 8; i++) files[`f${i}.bin`] = new Uint8Array(2 * MiB).map((_, j) => (j * 31 + i) & 0xff);
    const x = extractParts(message([{ filename: 'many.zip', type: 'application/zip', bytes: zip(files) }]), { ...DEFAULT_EXTRACT_LIMITS, maxTotalBytes: 8 * MiB });
    expect(x.findings.map((f) => f.kind)).toContain('zip-bomb');
    expect(x.bytes).toBeLessThanOrEqual(8 * MiB);
  });

  it('holds the entry count across archives', () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 30; i++) files[`f${i}.txt`] = 'x';
    const x = extractParts(message([{ filename: 'a.zip', type: 'application/zip', bytes: zip(files) }]), { ...DEFAULT_EXTRACT_LIMITS, maxEntries: 20 });
    expect(x.findings.map((f) => f.kind)).toEqual(['zip-bomb']);
    expect(x.findings[0]!.detail).toMatch(/more than 20 archive entries/);
    expect(x.parts.filter((p) => p.archiveDepth === 1)).toHaveLength(20);
  });

  it('lists encrypted entries by name, without bytes, and reports the archive', () => {
    const x = extractParts(message([{ filename: 'locked.zip', type: 'application/zip', bytes: encryptedZip('invoice.pdf.exe') }]));
    expect(x.findings).toEqual([{ kind: 'encrypted-archive', part: '2/locked.zip', detail: 'encrypted entries cannot be scanned' }]);
    const e = x.parts.find((p) => p.filename === 'invoice.pdf.exe')!;
    expect(e.encrypted).toBe(true);
    expect(e.bytes.length).toBe(0);
  });

  it('reports a corrupt archive and keeps going', () => {
    const z = Buffer.from(zip({ 'a.txt': 'hello' }));
    z.writeUInt32LE(0xdeadbeef, z.length - 6); // the central directory's offset
    const x = extractParts(message([{ filename: 'bad.zip', type: 'application/zip', bytes: z }, { filename: 'b.txt', type: 'text/plain', bytes: 'ok' }]));
    expect(x.findings.map((f) => f.kind)).toEqual(['archive-unreadable']);
    expect(x.parts.map((p) => p.path)).toEqual(['1', '2/bad.zip', '3/b.txt']);
  });

  it('never throws on garbage and bounds MIME nesting', () => {
    const deep = 'Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\n'.repeat(5000);
    expect(() => extractParts(Buffer.from(deep))).not.toThrow();
    expect(() => extractParts(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 1, 2, 3]))).not.toThrow();
    expect(() => extractParts(Buffer.from('Content-Type: application/zip\r\nContent-Transfer-Encoding: base64\r\n\r\nUEsDBA==\r\n'))).not.toThrow();
  });

  it('takes limits from plain data, each within range', () => {
    expect(limitsFrom({ maxArchiveDepth: 2, maxTotalBytes: -1, maxRatio: 'x' })).toEqual({ ...DEFAULT_EXTRACT_LIMITS, maxArchiveDepth: 2 });
    expect(limitsFrom(null)).toEqual(DEFAULT_EXTRACT_LIMITS);
  });
});
