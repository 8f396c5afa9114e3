/**
 * IMAP APPEND applies postern's storage rule, the one SMTP applies at the end
 * of DATA (a well-formed header section, no NUL), loosened where IMAP allows
 * more: a message with no header fields at all is stored, and a literal8
 * (RFC 3516) may carry NUL in the body. Refused messages get NO and a clear
 * text and leave the folder as it was. NUL is never sent back in an ordinary
 * literal: BODY[] shows it as 0x80, BINARY[] gives the exact octets.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { STORABLE, UNSTORABLE } from '../support/unstorable.js';
import { startHarness, type Harness, type TestUser } from './harness.js';
import { pyParams, runPython } from './python.js';
import { RawClient, rawLogin } from './rawclient.js';

let h: Harness;
let user: TestUser;
const clients: RawClient[] = [];

beforeAll(async () => {
  h = await startHarness();
  user = await h.addUser('storable');
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});
afterAll(async () => {
  await h?.close();
});

const inbox = async (): Promise<number> => (await h.store.meta.mailboxes.listMessages((await h.folder(user, 'INBOX')).id)).length;

describe('APPEND and the storage rule', () => {
  it('refuses with imaplib what SMTP refuses, and stores what it accepts', async () => {
    const before = await inbox();
    const bad = UNSTORABLE.filter((u) => u.reason !== 'no-header');
    const good = [...STORABLE, ...UNSTORABLE.filter((u) => u.reason === 'no-header').map((u) => u.bytes)];
    const r = await runPython(
      `
import base64
m = login(tls())
for i, msg in enumerate(P['bad']):
    typ, data = m.append('INBOX', None, None, base64.b64decode(msg))
    emit('bad%d' % i, [typ, data[0].decode()])
for i, msg in enumerate(P['good']):
    typ, data = m.append('INBOX', None, None, base64.b64decode(msg))
    emit('good%d' % i, [typ, data[0].decode()])
m.logout()
`,
      pyParams(h, user, { bad: bad.map((u) => u.bytes.toString('base64')), good: good.map((b) => b.toString('base64')) }),
    );
    bad.forEach((u, i) => {
      const [typ, text] = r[`bad${i}`] as [string, string];
      expect(typ, u.name).toBe('NO');
      expect(text, u.name).toMatch(u.reason === 'nul' ? /^\[PARSE\] Message contains NUL bytes/ : /^\[PARSE\] Message (header|has no header)/);
    });
    good.forEach((_, i) => expect((r[`good${i}`] as string[])[0]).toBe('OK'));
    expect(await inbox()).toBe(before + good.length);
  });

  it('stores a literal8 with NUL in the body, serves it as 0x80 in BODY[] and exactly in BINARY[], and refuses NUL in a header', async () => {
    const before = await inbox();
    const c = await RawClient.tls(h.ports.tls, h.ca);
    clients.push(c);
    await c.line();
    expect(await rawLogin(c, user.address, user.password)).toMatch(/^L1 OK/);
    const withNul = UNSTORABLE[0]!.bytes;
    c.write(`B1 APPEND INBOX ~{${withNul.length}}\r\n`);
    expect(await c.line()).toMatch(/^\+ /);
    c.write(Buffer.concat([withNul, Buffer.from('\r\n')]));
    const appended = (await c.until((l) => l.startsWith('B1 '))).at(-1)!;
    expect(appended).toMatch(/^B1 OK \[APPENDUID \d+ \d+\]/);
    const uid = /APPENDUID \d+ (\d+)/.exec(appended)![1];
    const nulInHeader = Buffer.from('From: alice@example.test\r\nSubject: a\0b\r\n\r\nbody\r\n', 'latin1');
    c.write(`B2 APPEND INBOX ~{${nulInHeader.length}}\r\n`);
    expect(await c.line()).toMatch(/^\+ /);
    c.write(Buffer.concat([nulInHeader, Buffer.from('\r\n')]));
    expect((await c.until((l) => l.startsWith('B2 '))).at(-1)).toBe('B2 NO [PARSE] Message header section contains NUL');
    expect(await inbox()).toBe(before + 1);
    expect((await c.command('S1', 'SELECT INBOX')).at(-1)).toMatch(/^S1 OK/);
    const body = (await c.command('F1', `UID FETCH ${uid} (BODY.PEEK[TEXT])`)).join('\n');
    expect(body).toContain(`{${'before\0after\r\n'.length}}`);
    expect(body).toContain('before\x80after');
    expect(body).not.toContain('\0');
    const binary = (await c.command('F2', `UID FETCH ${uid} (BINARY.PEEK[1])`)).join('\n');
    expect(binary).toContain('~{');
    expect(binary).toContain('before\0after');
  });

  it('refuses a MULTIAPPEND as a whole when one message breaks the rule', async () => {
    const before = await inbox();
    const c = await RawClient.tls(h.ports.tls, h.ca);
    clients.push(c);
    await c.line();
    expect(await rawLogin(c, user.address, user.password)).toMatch(/^L1 OK/);
    const good = STORABLE[0]!;
    const bad = UNSTORABLE[1]!.bytes;
    c.write(Buffer.concat([Buffer.from(`M1 APPEND INBOX {${good.length}+}\r\n`), good, Buffer.from(` {${bad.length}+}\r\n`), bad, Buffer.from('\r\n')]));
    expect((await c.until((l) => l.startsWith('M1 '))).at(-1)).toMatch(/^M1 NO \[PARSE\] /);
    expect(await inbox()).toBe(before);
  });
});
