import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseMessage, type MimeLimits } from '../../codec/mime/index.js';
import { batchTask } from './batch-task.js';
import { parseOnce, withParseMemo } from './parse-memo.js';

const NESTED = Buffer.from(
  [
    'From: a@example.org',
    'Subject: nested',
    'Content-Type: multipart/mixed; boundary=outer',
    '',
    '--outer',
    'Content-Type: text/plain',
    '',
    'hello',
    '--outer',
    'Content-Type: message/rfc822',
    '',
    'Subject: inner',
    'Content-Type: multipart/alternative; boundary=inner',
    '',
    '--inner',
    'Content-Type: text/plain',
    '',
    'inner text',
    '--inner--',
    '--outer--',
    '',
  ].join('\r\n'),
);

describe('parseOnce', () => {
  it('is parseMessage for bytes without an open memo', () => {
    expect(parseOnce(NESTED)).not.toBe(parseOnce(NESTED));
    expect(parseOnce(NESTED, { maxDepth: 1 })).toEqual(parseMessage(NESTED, { maxDepth: 1 }));
  });

  it('shares one parse for the same bytes and the same limits (defaults applied)', async () => {
    await withParseMemo(NESTED, async () => {
      const a = parseOnce(NESTED);
      expect(parseOnce(NESTED, { maxDepth: 32, maxParts: 1000 })).toBe(a);
      // Other bytes with the same content are another message, without a memo.
      const copy = Buffer.from(NESTED);
      expect(parseOnce(copy)).not.toBe(parseOnce(copy));
    });
  });

  it('shares a parse that hit no limit with limits the message stays inside', async () => {
    await withParseMemo(NESTED, async () => {
      const a = parseOnce(NESTED, { maxHeaderBytes: 1024 * 1024 });
      expect(parseOnce(NESTED, { maxDepth: 20, maxParts: 1000 })).toBe(a);
      // The deepest part is at depth 3 (root, message part, inner root, inner child).
      expect(parseOnce(NESTED, { maxDepth: 4 })).toBe(a);
    });
  });

  it('parses afresh for limits the message does not fit, and for a parse that hit a limit', async () => {
    await withParseMemo(NESTED, async () => {
      const a = parseOnce(NESTED);
      const tight = parseOnce(NESTED, { maxDepth: 2 });
      expect(tight).not.toBe(a);
      expect(tight).toEqual(parseMessage(NESTED, { maxDepth: 2 }));
      expect(JSON.stringify(tight)).toContain('depth-limit');
      // The tight parse is not shared with looser limits: it stopped early.
      const loose = parseOnce(NESTED, { maxDepth: 3 });
      expect(loose).not.toBe(tight);
      expect(loose).toEqual(parseMessage(NESTED, { maxDepth: 3 }));
    });
  });

  it('serves the items of one batch task from one parse, and not the next batch', async () => {
    const seen: unknown[] = [];
    const record = async (input: unknown) => void seen.push(parseOnce((input as { raw: Uint8Array }).raw, { maxDepth: 20 }));
    const batch = batchTask({ a: record, b: record });
    const items = [{ task: 'a', input: {} }, { task: 'b', input: {} }];
    await batch({ raw: NESTED, items }, {});
    await batch({ raw: NESTED, items }, {});
    expect(seen).toHaveLength(4);
    expect(seen[1]).toBe(seen[0]);
    expect(seen[2]).not.toBe(seen[0]);
    expect(seen[3]).toBe(seen[2]);
  });

  it('ends with its scope', async () => {
    const inside = await withParseMemo(NESTED, async () => parseOnce(NESTED));
    expect(parseOnce(NESTED)).not.toBe(inside);
  });

  // Small limits and MIME-like bytes reach every limit's edge: whichever parse came
  // first, the answer is what parseMessage gives for the limits asked.
  it('always answers what parseMessage would', async () => {
    const PIECES = [
      '\r\n', '\n', ' ', ':', '--a', '--a--', '--b', '--b--', 'X: y\r\n', 'From: a@b.c\n', '\r\n\r\n', '\n\n',
      'Content-Type: multipart/mixed; boundary=a\r\n', 'Content-Type: multipart/digest; boundary="b"\n',
      'Content-Type: message/rfc822\r\n', 'Content-Type: text/plain\n',
    ];
    const bytes = fc.array(fc.oneof(fc.constantFrom(...PIECES), fc.string({ maxLength: 6 })), { maxLength: 60 }).map((xs) => Buffer.from(xs.join(''), 'latin1'));
    const limits: fc.Arbitrary<MimeLimits> = fc.record(
      { maxDepth: fc.integer({ min: 0, max: 5 }), maxParts: fc.integer({ min: 1, max: 12 }), maxHeaderBytes: fc.integer({ min: 0, max: 120 }), maxHeaderFields: fc.integer({ min: 0, max: 6 }) },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(bytes, fc.array(limits, { minLength: 2, maxLength: 4 }), async (buf, asks) => {
        await withParseMemo(buf, async () => {
          for (const l of asks) expect(parseOnce(buf, l)).toEqual(parseMessage(buf, l));
        });
      }),
      { numRuns: 3000 },
    );
  });
});
