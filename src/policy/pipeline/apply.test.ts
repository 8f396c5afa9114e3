import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encryptToOf, subjectTagOf, tagSubject } from './apply.js';
import { passVerdict } from '../../core/verdict.js';

/** The unfolded value of the first Subject field, or null. */
function subjectOf(msg: string): string | null {
  const head = msg.split('\r\n\r\n')[0] ?? '';
  const m = /(?:^|\r\n)subject:((?:[^\r]|\r\n[ \t])*)/i.exec(head);
  return m ? m[1]!.replace(/\r\n(?=[ \t])/g, '').replace(/^[ \t]+/, '') : null;
}

const text = fc.stringMatching(/^[ -~]{0,120}$/);
const tagArb = fc.stringMatching(/^\[[A-Za-z ]{1,20}\]$/);

describe('subject tag', () => {
  it('puts the tag in front of the first Subject once; folds a long line; keeps the body and the other fields', () => {
    fc.assert(
      fc.property(tagArb, text, fc.array(fc.tuple(fc.constantFrom('From', 'To', 'X-A'), text), { maxLength: 4 }), text, (tag, subject, fields, body) => {
        const head = [...fields.map(([n, v]) => `${n}: ${v}`), `Subject: ${subject}`, 'Subject: second'].join('\r\n');
        const msg = `${head}\r\n\r\n${body}\r\n`;
        const out = tagSubject(Buffer.from(msg), tag);
        if (subject.trimStart().toLowerCase().startsWith(tag.toLowerCase())) return expect(out).toBe('unchanged');
        if (typeof out === 'string') throw new Error(out);
        const s = out.toString();
        expect(subjectOf(s)).toBe(subject.trimStart() === '' ? tag : `${tag} ${subject.trimStart()}`);
        expect(s.endsWith(`\r\n\r\n${body}\r\n`)).toBe(true);
        expect(s).toContain('\r\nSubject: second\r\n');
        for (const line of s.split('\r\n\r\n')[0]!.split('\r\n')) expect(line.length).toBeLessThanOrEqual(Math.max(78, ...msg.split('\r\n').map((l) => l.length)));
        expect(tagSubject(out, tag)).toBe('unchanged');
      }),
    );
  });

  it('says absent when the header section has no Subject (a "Subject:" in the body does not count)', () => {
    expect(tagSubject(Buffer.from('From: a@b\r\n\r\nSubject: not a header\r\n'), '[T]')).toBe('absent');
    expect(tagSubject(Buffer.from(''), '[T]')).toBe('absent');
    expect(tagSubject(Buffer.from('X-Subject: a\r\n\r\n'), '[T]')).toBe('absent');
    expect(tagSubject(Buffer.from('Subject:\r\n\r\n'), '[T]').toString()).toBe('Subject: [T]\r\n\r\n');
  });

  it('takes the first non-empty tag, one line and bounded', () => {
    expect(subjectTagOf([passVerdict('a', { subjectTag: ' \r\n ' }), passVerdict('b', { subjectTag: 'x\ty' })])).toBe('x y');
    expect(subjectTagOf([passVerdict('a')])).toBeNull();
    expect(subjectTagOf([passVerdict('a', { subjectTag: 'z'.repeat(500) })])?.length).toBe(100);
    // Not ASCII: an encoded-word, which tagSubject then recognises as already there.
    const tag = subjectTagOf([passVerdict('a', { subjectTag: '[Vertraulich – intern]' })])!;
    expect(tag).toMatch(/^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=$/);
    const once = tagSubject(Buffer.from('Subject: Plan\r\n\r\n'), tag);
    expect(tagSubject(once as Buffer, tag)).toBe('unchanged');
  });
});

describe('encryptToOf', () => {
  it('is null when no verdict asks, and every certificate once when some do (an empty list still asks)', () => {
    const a = new Uint8Array([1, 2, 3]);
    const b = new Uint8Array([4, 5]);
    expect(encryptToOf([passVerdict('a'), passVerdict('b')])).toBeNull();
    expect(encryptToOf([passVerdict('dlp', { encryptTo: [a, b] }), passVerdict('x', { encryptTo: [new Uint8Array([1, 2, 3])] })])).toEqual([a, b]);
    // An empty list is still a request: the encryptor then fails and the message waits, it is never sent in clear.
    expect(encryptToOf([passVerdict('dlp', { encryptTo: [] })])).toEqual([]);
  });
});
