import { describe, expect, it } from 'vitest';
import { checkEightBit, checkParams, ehloKeywords } from './params.js';

const offered = ehloKeywords(['mail.example.test Nice to meet you', 'PIPELINING', '8BITMIME', 'ENHANCEDSTATUSCODES', 'AUTH PLAIN LOGIN', 'SIZE 1048576']);

describe('checkParams', () => {
  it('takes a bare path and the parameters of offered extensions', () => {
    expect(checkParams('MAIL FROM:<a@x.test>', 'MAIL', offered)).toBeNull();
    expect(checkParams('MAIL FROM:<>', 'MAIL', offered)).toBeNull();
    expect(checkParams('MAIL FROM:<a@x.test> SIZE=100 BODY=8BITMIME AUTH=<>', 'MAIL', offered)).toBeNull();
    expect(checkParams('mail from: <a@x.test>  size=1', 'MAIL', offered)).toBeNull();
    expect(checkParams('RCPT TO:<b@x.test>', 'RCPT', offered)).toBeNull();
  });

  it('calls a word after the path that is no esmtp-param a syntax error', () => {
    for (const line of ['RCPT TO:<a@example.test> <b@elsewhere.test>', 'RCPT TO:<a@example.test> b@elsewhere.test', 'MAIL FROM:<x@y.test> =junk', 'MAIL FROM:<x@y.test> SIZE=', 'MAIL FROM:<x@y.test> SIZE==1', 'MAIL FROM:<x@y.test> -X']) {
      expect(checkParams(line, line.startsWith('RCPT') ? 'RCPT' : 'MAIL', offered), line).toEqual({ refuse: 'syntax' });
    }
  });

  it('names a well-formed parameter no offered extension defines', () => {
    expect(checkParams('MAIL FROM:<x@y.test> FOO=bar', 'MAIL', offered)).toEqual({ refuse: 'not-offered', keyword: 'FOO' });
    expect(checkParams('MAIL FROM:<x@y.test> junk', 'MAIL', offered)).toEqual({ refuse: 'not-offered', keyword: 'JUNK' });
    expect(checkParams('MAIL FROM:<x@y.test> SMTPUTF8', 'MAIL', offered)).toEqual({ refuse: 'not-offered', keyword: 'SMTPUTF8' });
    expect(checkParams('MAIL FROM:<x@y.test> RET=HDRS', 'MAIL', offered)).toEqual({ refuse: 'not-offered', keyword: 'RET' });
    expect(checkParams('MAIL FROM:<x@y.test> REQUIRETLS', 'MAIL', offered)).toEqual({ refuse: 'not-offered', keyword: 'REQUIRETLS' });
    expect(checkParams('RCPT TO:<b@x.test> NOTIFY=NEVER', 'RCPT', offered)).toEqual({ refuse: 'not-offered', keyword: 'NOTIFY' });
    expect(checkParams('RCPT TO:<b@x.test> SIZE=1', 'RCPT', offered)).toEqual({ refuse: 'not-offered', keyword: 'SIZE' });
    // After HELO nothing is offered.
    expect(checkParams('MAIL FROM:<x@y.test> SIZE=1', 'MAIL', new Set())).toEqual({ refuse: 'not-offered', keyword: 'SIZE' });
    expect(checkParams('MAIL FROM:<x@y.test> REQUIRETLS', 'MAIL', new Set([...offered, 'REQUIRETLS']))).toBeNull();
  });

  it('checks DSN parameters when DSN is offered (RFC 3461)', () => {
    const dsn = new Set([...offered, 'DSN']);
    for (const ok of ['MAIL FROM:<x@y.test> RET=HDRS ENVID=abc+2Bdef', 'MAIL FROM:<x@y.test> ret=full', 'RCPT TO:<b@x.test> NOTIFY=NEVER', 'RCPT TO:<b@x.test> NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=rfc822;b+2Bc@x.test']) {
      expect(checkParams(ok, ok.startsWith('RCPT') ? 'RCPT' : 'MAIL', dsn), ok).toBeNull();
    }
    for (const bad of [
      'MAIL FROM:<x@y.test> RET=BODY',
      `MAIL FROM:<x@y.test> ENVID=${'a'.repeat(101)}`,
      'MAIL FROM:<x@y.test> ENVID=a+0Db', // a control character once decoded
      'MAIL FROM:<x@y.test> ENVID=a+zz',
      'RCPT TO:<b@x.test> NOTIFY=NEVER,SUCCESS',
      'RCPT TO:<b@x.test> NOTIFY=SUCCESS,SUCCESS',
      'RCPT TO:<b@x.test> NOTIFY=SOMETIMES',
      'RCPT TO:<b@x.test> ORCPT=b@x.test',
      'RCPT TO:<b@x.test> ORCPT=rfc822;a+20b@x.test',
      `RCPT TO:<b@x.test> ORCPT=rfc822;${'a'.repeat(501)}`,
    ]) {
      expect(checkParams(bad, bad.startsWith('RCPT') ? 'RCPT' : 'MAIL', dsn), bad).toEqual({ refuse: 'syntax' });
    }
  });

  it('leaves a malformed verb or path to smtp-server', () => {
    expect(checkParams('MAIL FROM:x@y.test FOO', 'MAIL', offered)).toBeNull();
    expect(checkParams('MAIL FROM', 'MAIL', offered)).toBeNull();
  });

  it('reads a 4 KiB line of parameters in one pass', () => {
    expect(checkParams(`MAIL FROM:<x@y.test> ${'SIZE=1 '.repeat(580)}`, 'MAIL', offered)).toBeNull();
  });
});

describe('checkEightBit (RFC 6531 3.7.4.1)', () => {
  const b = (s: string) => Buffer.from(s, 'utf8');

  it('lets ASCII through whatever the transaction asked for', () => {
    expect(checkEightBit(b('MAIL FROM:<a@x.test>'), 'MAIL', false)).toBeNull();
    expect(checkEightBit(b('RCPT TO:<a@xn--bcher-kva.test>'), 'RCPT', false)).toBeNull();
  });

  it('takes a UTF-8 sender only with SMTPUTF8 on its own MAIL, a UTF-8 recipient only in such a transaction', () => {
    expect(checkEightBit(b('MAIL FROM:<jösé@x.test>'), 'MAIL', false)).toBe('UTF8_SENDER_NOT_ALLOWED');
    expect(checkEightBit(b('MAIL FROM:<jösé@x.test> SIZE=10 smtputf8'), 'MAIL', false)).toBeNull();
    expect(checkEightBit(b('MAIL FROM:<a@bücher.test> BODY=8BITMIME'), 'MAIL', false)).toBe('UTF8_SENDER_NOT_ALLOWED');
    expect(checkEightBit(b('RCPT TO:<jösé@x.test>'), 'RCPT', false)).toBe('UTF8_RECIPIENT_NOT_ALLOWED');
    expect(checkEightBit(b('RCPT TO:<jösé@x.test>'), 'RCPT', true)).toBeNull();
  });

  it('refuses bytes above 0x7F that are not UTF-8, with or without SMTPUTF8', () => {
    for (const raw of ['MAIL FROM:<j\xf6se@x.test> SMTPUTF8', 'RCPT TO:<\xc3@x.test>', 'RCPT TO:<\xed\xa0\x80@x.test>']) {
      const verb = raw.startsWith('MAIL') ? 'MAIL' : 'RCPT';
      expect(checkEightBit(Buffer.from(raw, 'latin1'), verb, true), raw).toBe('BAD_UTF8');
    }
  });

  it('refuses a value on SMTPUTF8 when it is offered', () => {
    const offered = new Set(['SMTPUTF8']);
    expect(checkParams('MAIL FROM:<a@x.test> SMTPUTF8', 'MAIL', offered)).toBeNull();
    expect(checkParams('MAIL FROM:<a@x.test> SMTPUTF8=x', 'MAIL', offered)).toEqual({ refuse: 'syntax' });
  });
});
