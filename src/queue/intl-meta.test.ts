import { describe, expect, it } from 'vitest';
import { headerHasUtf8Address, needsSmtputf8, smtputf8Of } from './intl-meta.js';

const msg = (head: string) => Buffer.from(`${head}\r\n\r\nbody ü\r\n`, 'utf8');

describe('SMTPUTF8 in the queue meta', () => {
  it('reads the flag only when it is exactly true', () => {
    expect(smtputf8Of({ smtputf8: true })).toBe(true);
    for (const v of [undefined, 'true', 1, null]) expect(smtputf8Of({ smtputf8: v })).toBe(false);
  });

  it('needs SMTPUTF8 with the flag and a UTF-8 address in the envelope or an address field', () => {
    const ascii = msg('From: a@x.test\r\nTo: b@y.test\r\nSubject: Grüße');
    expect(needsSmtputf8({ smtputf8: true }, 'a@x.test', ['b@y.test'], ascii)).toBe(false);
    expect(needsSmtputf8({ smtputf8: true }, 'jösé@x.test', ['b@y.test'], ascii)).toBe(true);
    expect(needsSmtputf8({ smtputf8: true }, 'a@x.test', ['rené@y.test'], ascii)).toBe(true);
    expect(needsSmtputf8({ smtputf8: true }, 'a@x.test', ['b@y.test'], msg('From: a@x.test\r\nCc: Ré <rené@y.test>'))).toBe(true);
    // Without the flag the client never asked for it.
    expect(needsSmtputf8({}, 'a@x.test', ['b@y.test'], msg('From: jösé@x.test'))).toBe(false);
  });

  it('looks at addresses, not display names, and into groups', () => {
    expect(headerHasUtf8Address(msg('From: "Jösé" <jose@x.test>'))).toBe(false);
    expect(headerHasUtf8Address(msg('To: friends: jösé@x.test, b@y.test;'))).toBe(true);
    expect(headerHasUtf8Address(msg('Reply-To: =?utf-8?q?J=C3=B6s=C3=A9?= <jose@x.test>'))).toBe(false);
  });
});
