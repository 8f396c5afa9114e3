import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePop3Command } from './parse.js';
import { Pop3LineReader, type Pop3ReaderOptions } from './reader.js';

const b = (s: string) => Buffer.from(s, 'latin1');

function lines(chunks: readonly Buffer[], options: Pop3ReaderOptions = {}): string[] {
  const r = new Pop3LineReader(options);
  const out: string[] = [];
  let bytes = 0;
  for (const c of chunks) {
    r.push(c);
    bytes += c.length;
    for (let ev = r.next(); ev !== null; ev = r.next()) {
      if (out.length > bytes) throw new Error('reader does not make progress');
      out.push(ev.type === 'line' ? `line:${ev.line.toString('hex')}:${JSON.stringify(parsePop3Command(ev.line))}` : `error:${ev.code}`);
    }
  }
  return out;
}

describe('Pop3LineReader', () => {
  it('splits CRLF and bare LF lines, waiting for the line end', () => {
    const r = new Pop3LineReader();
    r.push(b('USER al'));
    expect(r.next()).toBeNull();
    r.push(b('ice\r\nSTAT\nLI'));
    expect(r.next()).toEqual({ type: 'line', line: b('USER alice') });
    expect(r.next()).toEqual({ type: 'line', line: b('STAT') });
    expect(r.next()).toBeNull();
    expect(r.bufferedBytes).toBe(2);
  });

  it('allows 255 octets including CRLF and reports longer lines once', () => {
    const ok = `PASS ${'x'.repeat(248)}`;
    expect(ok.length + 2).toBe(255);
    const r = new Pop3LineReader();
    r.push(b(`${ok}\r\n${ok}x\r\nNOOP\r\n`));
    expect(r.next()).toEqual({ type: 'line', line: b(ok) });
    expect(r.next()).toEqual({ type: 'error', code: 'line-too-long', message: 'Line too long' });
    expect(r.next()).toEqual({ type: 'line', line: b('NOOP') });
  });

  it('skips an overlong line without buffering it', () => {
    const r = new Pop3LineReader();
    r.push(b('x'.repeat(300)));
    expect(r.next()).toMatchObject({ type: 'error' });
    r.push(b('y'.repeat(100_000)));
    expect(r.next()).toBeNull();
    expect(r.bufferedBytes).toBe(0);
    r.push(b('\r\nQUIT\r\n'));
    expect(r.next()).toEqual({ type: 'line', line: b('QUIT') });
  });

  it('reads longer lines in raw mode for SASL responses', () => {
    const r = new Pop3LineReader();
    r.push(b('AUTH PLAIN\r\n'));
    expect(r.next()).toEqual({ type: 'line', line: b('AUTH PLAIN') });
    r.setMode('raw');
    const response = 'A'.repeat(1000);
    r.push(b(`${response}\r\n`));
    expect(r.next()).toEqual({ type: 'line', line: b(response) });
    r.setMode('command');
    r.push(b(`${response}\r\n`));
    expect(r.next()).toMatchObject({ type: 'error' });
  });

  it('never throws and does not depend on chunking', () => {
    const token = fc.constantFrom('USER a', 'PASS x y', 'RETR 1', 'TOP 1 0', '\r\n', '\n', '\r', ' ', 'x'.repeat(100), '\x00', '\xff', 'AUTH PLAIN =');
    const data = fc.oneof(
      fc.array(token, { maxLength: 30 }).map((t) => b(t.join(''))),
      fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)),
    );
    fc.assert(
      fc.property(data, fc.array(fc.nat(), { maxLength: 10 }), (d, cuts) => {
        const points = [...new Set(cuts.map((c) => (d.length ? c % d.length : 0)))].sort((x, y) => x - y);
        const chunks = [...points, d.length].map((p, i) => d.subarray(i === 0 ? 0 : points[i - 1], p));
        expect(lines(chunks, { maxLineLength: 40 })).toEqual(lines([d], { maxLineLength: 40 }));
        expect(lines([...d].map((x) => Buffer.from([x])))).toEqual(lines([d]));
      }),
      { numRuns: 300 },
    );
  });
});
