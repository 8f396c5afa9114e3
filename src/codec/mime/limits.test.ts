import { describe, expect, it } from 'vitest';
import { buildBodyStructure } from './imap-structure.js';
import { collectDefects, parseMessage } from './parse.js';
import { findPart, listParts } from './sections.js';
import { rebuild } from './testing/corpus.js';

const codes = (buf: Buffer, limits = {}) => {
  const msg = parseMessage(buf, limits);
  return { msg, codes: collectDefects(msg.root).map((d) => d.code) };
};

describe('limits', () => {
  it('100 000 nested message/rfc822 stop at the depth limit', () => {
    const buf = Buffer.from('Content-Type: message/rfc822\n\n'.repeat(100_000) + 'end\n');
    const { msg, codes: c } = codes(buf);
    expect(msg.partCount).toBe(33);
    expect(c).toEqual(['depth-limit']);
    expect(rebuild(msg, msg.root).equals(buf)).toBe(true);
    expect(findPart(msg, '1' + '.1'.repeat(32))).not.toBeNull();
    expect(findPart(msg, '1' + '.1'.repeat(33))).toBeNull();
    // The BODYSTRUCTURE builder recurses over the tree, which the limit keeps shallow.
    expect(() => buildBodyStructure(msg.root)).not.toThrow();
  });

  it('5 000 nested multiparts stop at the configured depth', () => {
    let head = '';
    for (let i = 0; i < 5000; i++) head += `Content-Type: multipart/mixed; boundary=b${i}\r\n\r\n--b${i}\r\n`;
    const buf = Buffer.from(head + 'Content-Type: text/plain\r\n\r\nleaf\r\n');
    const { msg, codes: c } = codes(buf, { maxDepth: 10 });
    expect(msg.partCount).toBe(11);
    expect(c.filter((x) => x === 'depth-limit').length).toBe(1);
    expect(rebuild(msg, msg.root).equals(buf)).toBe(true);
    expect(listParts(msg).map((p) => p.number).at(-1)).toBe('1'.repeat(10).split('').join('.'));
  });

  it('5 000 parts stop at the part limit; the rest stays as epilogue bytes', () => {
    let body = '';
    for (let i = 0; i < 5000; i++) body += `--x\r\nContent-Type: text/plain\r\n\r\npart ${i}\r\n`;
    const buf = Buffer.from(`Content-Type: multipart/mixed; boundary=x\r\n\r\n${body}--x--\r\n`);
    const { msg, codes: c } = codes(buf);
    expect(msg.partCount).toBe(1000);
    expect(msg.root.children.length).toBe(999);
    expect(c).toEqual(['part-limit']);
    expect(msg.root.multipart!.epilogue!.end).toBe(buf.length);
    expect(buf.toString('latin1', msg.root.multipart!.epilogue!.start).startsWith('--x\r\nContent-Type: text/plain\r\n\r\npart 999\r\n')).toBe(true);
    expect(rebuild(msg, msg.root).equals(buf)).toBe(true);
  });

  it('a header over the byte limit leaves the part opaque', () => {
    const buf = Buffer.from(`Content-Type: multipart/mixed; boundary=x\r\nX-Pad: ${'y'.repeat(500)}\r\n\r\n--x\r\n\r\nhi\r\n--x--\r\n`);
    const { msg, codes: c } = codes(buf, { maxHeaderBytes: 200 });
    expect(c).toContain('header-too-large');
    expect(msg.root.children).toEqual([]);
    expect(msg.root.bodyStart).toBe(43); // just after the Content-Type line
    expect(buildBodyStructure(msg.root)).toMatchObject({ kind: 'multipart', children: [{ type: 'text', size: 0 }] });
  });

  it('a header of junk lines keeps a bounded number of defects', () => {
    const { msg, codes: c } = codes(Buffer.from('x\n'.repeat(200_000) + '\nbody'));
    expect(c.length).toBe(64);
    expect(msg.root.header.fields).toEqual([]);
    expect(msg.buf.toString('latin1', msg.root.bodyStart)).toBe('body');
  });

  it('maxDepth 0 keeps even the top multipart opaque', () => {
    const buf = Buffer.from('Content-Type: multipart/mixed; boundary=x\n\n--x\n\nhi\n--x--\n');
    const { msg, codes: c } = codes(buf, { maxDepth: 0 });
    expect(c).toEqual(['depth-limit']);
    expect(msg.partCount).toBe(1);
  });
});
