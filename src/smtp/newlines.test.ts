import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { applyNewlinePolicy, firstBareCr, firstBareLf, firstNul, normalizeBareLf } from './newlines.js';

const b = (s: string) => Buffer.from(s, 'latin1');

describe('bare CR / LF scanning', () => {
  it('finds the first bare CR and bare LF', () => {
    expect(firstBareCr(b('a\r\nb\rc'))).toBe(4);
    expect(firstBareCr(b('a\r\nb\r\n'))).toBe(-1);
    expect(firstBareCr(b('ends with\r'))).toBe(9);
    expect(firstBareLf(b('a\r\nb\nc'))).toBe(4);
    expect(firstBareLf(b('\nstart'))).toBe(0);
    expect(firstBareLf(b('a\r\n\r\n'))).toBe(-1);
    expect(firstNul(b('ab\0c'))).toBe(2);
  });

  it('normalizes every bare LF to CRLF and leaves CRLF alone', () => {
    expect(normalizeBareLf(b('a\nb\r\nc\n\n')).toString('latin1')).toBe('a\r\nb\r\nc\r\n\r\n');
    const clean = b('x\r\ny\r\n');
    const out = normalizeBareLf(clean);
    expect(out.equals(clean)).toBe(true);
    expect(out.buffer).toBe(clean.buffer); // no copy when there is nothing to change
  });

  it('after normalizing there is no bare LF, and removing the added CRs gives the input back', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', '.', '\n', '\r\n', 'MAIL FROM:<x@y>'), { maxLength: 40 }), (parts) => {
        const input = b(parts.join(''));
        const out = normalizeBareLf(input);
        expect(firstBareLf(out)).toBe(-1);
        expect(out.toString('latin1').replace(/\r\n/g, '\n')).toBe(input.toString('latin1').replace(/\r\n/g, '\n'));
      }),
    );
  });
});

describe('applyNewlinePolicy', () => {
  const variants = ['\n.\n', '\n.\r\n', '\r\n.\n', '\r.\r', '\r.\n', '\r\n.\r', '\n.\r'];

  it('reject refuses every smuggling variant', () => {
    for (const v of variants) expect(applyNewlinePolicy(b(`x${v}MAIL FROM:<a@b>\r\n`), 'reject').ok).toBe(false);
  });

  it('normalize keeps bare-LF variants as one message and refuses any bare CR', () => {
    for (const v of variants) {
      const r = applyNewlinePolicy(b(`x${v}y\r\n`), 'normalize');
      if (v.replace(/\r\n/g, '').includes('\r')) expect(r).toMatchObject({ ok: false, reason: 'bare-cr' });
      else expect(r.ok && r.data.toString('latin1')).toBe(`x${v.replace(/\r?\n/g, '\r\n')}y\r\n`);
    }
  });

  it('passes clean CRLF data through unchanged in both modes', () => {
    const clean = b('Subject: x\r\n\r\nbody\r\n');
    for (const mode of ['reject', 'normalize'] as const) {
      const r = applyNewlinePolicy(clean, mode);
      expect(r.ok && r.data.equals(clean)).toBe(true);
    }
  });
});
