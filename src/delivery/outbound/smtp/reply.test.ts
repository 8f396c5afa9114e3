import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ReplyParser, ehloExtensions, replyText, SmtpProtocolError, MAX_PENDING_BYTES, MAX_REPLY_LINES } from './reply.js';
import { dataPayload } from './dotstuff.js';

const parse = (...chunks: string[]) => {
  const p = new ReplyParser();
  const out = [];
  for (const c of chunks) {
    p.push(Buffer.from(c, 'latin1'));
    for (let r = p.next(); r; r = p.next()) out.push(r);
  }
  return out;
};

describe('ReplyParser', () => {
  it('refuses to hold more than one largest reply of bytes nobody asked for', () => {
    const p = new ReplyParser();
    const line = Buffer.from('250-' + 'x'.repeat(1000) + '\r\n');
    let pushed = 0;
    const flood = () => {
      for (let i = 0; i < 100_000; i++) {
        p.push(line);
        pushed += line.length;
      }
    };
    expect(flood).toThrow(SmtpProtocolError);
    expect(pushed).toBeLessThanOrEqual(MAX_PENDING_BYTES);
  });

  it('refuses a multiline reply of more than MAX_REPLY_LINES lines', () => {
    const lines = '250-x\r\n'.repeat(MAX_REPLY_LINES) + '250 end\r\n';
    expect(() => parse(lines)).toThrow(/too many reply lines/);
    expect(parse('250-x\r\n'.repeat(MAX_REPLY_LINES - 1) + '250 end\r\n')[0]!.lines).toHaveLength(MAX_REPLY_LINES);
  });

  it('joins multiline replies split across chunks and reads enhanced codes', () => {
    const [ehlo, rcpt] = parse('250-mx.test Hello\r\n250-PIPE', 'LINING\r\n250-SIZE 1000\r\n250 STARTTLS\r\n550 5.1.1 No such user\r\n');
    expect(ehlo).toEqual({ code: 250, enhanced: null, lines: ['mx.test Hello', 'PIPELINING', 'SIZE 1000', 'STARTTLS'] });
    expect([...ehloExtensions(ehlo!).keys()]).toEqual(['PIPELINING', 'SIZE', 'STARTTLS']);
    expect(ehloExtensions(ehlo!).get('SIZE')).toBe('1000');
    expect(rcpt).toMatchObject({ code: 550, enhanced: '5.1.1' });
    expect(replyText(rcpt!)).toBe('550 5.1.1 No such user');
  });

  it('accepts a bare code and LF line ends; ignores a class-mismatched enhanced code', () => {
    expect(parse('220\n')).toEqual([{ code: 220, enhanced: null, lines: [''] }]);
    expect(parse('451 5.0.0 odd\r\n')[0]!.enhanced).toBeNull();
  });

  it('waits for the rest of a reply', () => {
    expect(parse('250-one\r\n250-two')).toEqual([]);
  });

  it('refuses malformed, mixed-code and oversized replies', () => {
    expect(() => parse('hello\r\n')).toThrow(SmtpProtocolError);
    expect(() => parse('250-a\r\n251 b\r\n')).toThrow(/code changed/);
    expect(() => parse('250 ' + 'x'.repeat(5000))).toThrow(/too long/);
    expect(() => parse('250-x\r\n'.repeat(200))).toThrow(/too many/);
  });
});

describe('dataPayload', () => {
  const s = (x: string) => dataPayload(Buffer.from(x, 'latin1')).toString('latin1');

  it('doubles leading dots, normalises line ends and terminates', () => {
    expect(s('Subject: a\r\n\r\n.hidden\r\n..two\r\nend')).toBe('Subject: a\r\n\r\n..hidden\r\n...two\r\nend\r\n.\r\n');
    expect(s('.first\nbare lf\rbare cr\r\n')).toBe('..first\r\nbare lf\r\nbare cr\r\n.\r\n');
    expect(s('')).toBe('.\r\n');
  });

  it('never lets the body end the DATA early, whatever it holds', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('.', '\r', '\n', 'a', '\r\n', '\r\n.\r\n'), { maxLength: 40 }), (bits) => {
        const out = dataPayload(Buffer.from(bits.join(''), 'latin1')).toString('latin1');
        // The only "CRLF . CRLF" is the terminator; no bare CR or LF is sent.
        expect(out.endsWith('.\r\n')).toBe(true);
        const body = out.slice(0, -3);
        expect(('\r\n' + body).includes('\r\n.\r\n')).toBe(false);
        expect(/\r(?!\n)|(?<!\r)\n/.test(out)).toBe(false);
      }),
    );
  });
});
