import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_URL_LENGTH, parseImapUrl, parseUrlSection } from './imap-url.js';

describe('IMAP URLs (RFC 5092) for CATENATE', () => {
  it('reads relative and absolute message URLs', () => {
    expect(parseImapUrl('/INBOX/;UID=20/;SECTION=1.2.MIME')).toEqual({
      ok: true,
      url: { server: null, mailbox: 'INBOX', uidValidity: null, uid: 20, section: { part: [1, 2], text: 'MIME', fields: [] }, partial: null, urlauth: null },
    });
    expect(parseImapUrl('/Lists%2FDev;uidvalidity=385759045/;uid=3/;partial=0.1024')).toMatchObject({
      ok: true,
      url: { mailbox: 'Lists/Dev', uidValidity: 385759045, uid: 3, section: null, partial: { offset: 0, length: 1024 } },
    });
    expect(parseImapUrl('/Archive/2024/;uid=7/;section=HEADER.FIELDS%20(From%20To)')).toMatchObject({
      ok: true,
      url: { mailbox: 'Archive/2024', section: { part: [], text: 'HEADER.FIELDS', fields: ['From', 'To'] } },
    });
    expect(parseImapUrl('imap://fred%40example.test;AUTH=*@Mail.Example.Test:993/Entw%C3%BCrfe/;UID=1')).toMatchObject({
      ok: true,
      url: { server: { user: 'fred@example.test', host: 'mail.example.test', port: 993 }, mailbox: 'Entwürfe', uid: 1 },
    });
  });

  it.each([
    ['INBOX/;UID=1', 'not an IMAP URL'],
    ['/INBOX', 'URL names no UID'],
    ['/INBOX/;UID=0', 'invalid UID in URL'],
    ['/INBOX/;UID=99999999999', 'invalid UID in URL'],
    ['/;UID=1', 'invalid mailbox in URL'],
    ['/IN%ZZBOX/;UID=1', 'invalid mailbox in URL'],
    ['/INBOX;UIDVALIDITY=x/;UID=1', 'invalid UIDVALIDITY in URL'],
    ['/INBOX/;UID=1/;SECTION=0', 'invalid SECTION in URL'],
    ['/INBOX/;UID=1/;SECTION=MIME', 'invalid SECTION in URL'],
    ['/INBOX/;UID=1/;PARTIAL=1.0', 'invalid PARTIAL in URL'],
    ['/INBOX/;UID=1/;PARTIAL=1/;SECTION=1', 'unexpected part in URL'],
    ['/INBOX/;UID=1/;URLAUTH=anonymous', 'URLAUTH URL must name its server and user'],
    ['imap://host/INBOX/;UID=1;URLAUTH=anonymous', 'URLAUTH URL must name its server and user'],
    ['imap://u@host/INBOX/;UID=1;URLAUTH=someone', 'invalid URLAUTH access identifier'],
    ['imap://u@host/INBOX/;UID=1;URLAUTH=user+', 'invalid URLAUTH access identifier'],
    ['imap://u@host/INBOX/;UID=1;URLAUTH=anonymous:internal', 'invalid URLAUTH'],
    ['imap://u@host/INBOX/;UID=1;URLAUTH=anonymous:internal:abc', 'invalid URLAUTH token'],
    ['imap://u@host/INBOX/;UID=1;URLAUTH=anonymous:in ternal:' + '0'.repeat(32), 'invalid character in URL'],
    ['imap://u@host/INBOX/;UID=1;EXPIRE=2030-13-01T00:00:00Z;URLAUTH=authuser', 'invalid EXPIRE in URL'],
    ['imap://u@host/INBOX/;UID=1;URLAUTH=authuser/;SECTION=1', 'invalid URLAUTH access identifier'],
    ['/IN BOX/;UID=1', 'invalid character in URL'],
    ['imap://host', 'URL names no message'],
    ['imap://a@b@/INBOX/;UID=1', 'invalid server in URL'],
    [`/${'a'.repeat(MAX_URL_LENGTH)}/;UID=1`, 'URL too long'],
  ])('refuses %j', (url, reason) => {
    expect(parseImapUrl(url)).toEqual({ ok: false, reason });
  });

  it('reads URLAUTH (RFC 4467): rump, expiry, access, mechanism and token', () => {
    const token = 'A1'.repeat(32);
    const url = `imap://joe@example.com/INBOX/;uid=20/;section=1.2;EXPIRE=2030-01-02T03:04:05+01:00;urlauth=submit+fred%40x.test:internal:${token}`;
    expect(parseImapUrl(url)).toMatchObject({
      ok: true,
      url: {
        server: { user: 'joe', host: 'example.com' },
        mailbox: 'INBOX',
        uid: 20,
        section: { part: [1, 2] },
        urlauth: {
          rump: url.slice(0, url.indexOf(':internal:')),
          expire: Date.UTC(2030, 0, 2, 2, 4, 5),
          access: { kind: 'submit', name: 'fred@x.test' },
          mechanism: 'INTERNAL',
          token: token.toLowerCase(),
        },
      },
    });
    expect(parseImapUrl('imap://joe@example.com/INBOX/;uid=1;urlauth=AuthUser')).toMatchObject({
      ok: true,
      url: { uid: 1, urlauth: { rump: 'imap://joe@example.com/INBOX/;uid=1;urlauth=AuthUser', expire: null, access: { kind: 'authuser' }, mechanism: null, token: null } },
    });
  });

  it('the rump of a generated URL parses back to the same message, whatever the access name', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 0xffffffff }), fc.constantFrom('user', 'submit'), (name, uid, kind) => {
        const rump = `imap://joe@example.com/INBOX/;uid=${uid};urlauth=${kind}+${encodeURIComponent(name)}`;
        const r = parseImapUrl(`${rump}:internal:${'0f'.repeat(32)}`);
        expect(r).toMatchObject({ ok: true, url: { uid, urlauth: { rump, access: { kind, name } } } });
      }),
      { numRuns: 300 },
    );
  });

  it('reads sections as BODY[] does', () => {
    expect(parseUrlSection('TEXT')).toEqual({ part: [], text: 'TEXT', fields: [] });
    expect(parseUrlSection('3')).toEqual({ part: [3], text: null, fields: [] });
    expect(parseUrlSection('2.header.fields.not (x-a)')).toEqual({ part: [2], text: 'HEADER.FIELDS.NOT', fields: ['x-a'] });
    for (const bad of ['', 'HEADER.FIELDS', 'TEXT (A)', '1..2', 'BODY', '1.MIMEX', 'HEADER.FIELDS ()']) expect(parseUrlSection(bad), bad).toBeNull();
  });

  it('never throws, and gives back what was encoded', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        const r = parseImapUrl(s);
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 500 },
    );
    const mailbox = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }).filter((m) => !m.includes(';'));
    fc.assert(
      fc.property(
        mailbox,
        fc.option(fc.integer({ min: 1, max: 0xffffffff }), { nil: null }),
        fc.integer({ min: 1, max: 0xffffffff }),
        fc.array(fc.integer({ min: 1, max: 99 }), { maxLength: 4 }),
        (name, uidValidity, uid, part) => {
          const path = name.split('/').map(encodeURIComponent).join('/');
          const url = `/${path}${uidValidity === null ? '' : `;UIDVALIDITY=${uidValidity}`}/;UID=${uid}${part.length > 0 ? `/;SECTION=${part.join('.')}` : ''}`;
          const r = parseImapUrl(url);
          expect(r).toEqual({
            ok: true,
            url: { server: null, mailbox: name, uidValidity, uid, section: part.length > 0 ? { part, text: null, fields: [] } : null, partial: null, urlauth: null },
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});
