/**
 * IMAP APPEND applies postern's one storage rule, the one SMTP applies at
 * the end of DATA: no NUL byte, a well-formed header section. Refused
 * messages get NO and a clear text and leave the folder as it was; a literal8
 * (RFC 3516) with NUL gets NO [UNKNOWN-CTE].
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
      pyParams(h, user, { bad: UNSTORABLE.map((u) => u.bytes.toString('base64')), good: STORABLE.map((b) => b.toString('base64')) }),
    );
    UNSTORABLE.forEach((u, i) => {
      const [typ, text] = r[`bad${i}`] as [string, string];
      expect(typ, u.name).toBe('NO');
      expect(text, u.name).toMatch(u.reason === 'nul' ? /^\[PARSE\] Message contains NUL bytes/ : /^\[PARSE\] Message (header|has no header)/);
    });
    STORABLE.forEach((_, i) => expect((r[`good${i}`] as string[])[0]).toBe('OK'));
    expect(await inbox()).toBe(before + STORABLE.length);
  });

  it('answers a literal8 with NUL with NO [UNKNOWN-CTE] and takes a binary one without NUL', async () => {
    const before = await inbox();
    const c = await RawClient.tls(h.ports.tls, h.ca);
    clients.push(c);
    await c.line();
    expect(await rawLogin(c, user.address, user.password)).toMatch(/^L1 OK/);
    const withNul = UNSTORABLE[0]!.bytes;
    c.write(`B1 APPEND INBOX ~{${withNul.length}}\r\n`);
    expect(await c.line()).toMatch(/^\+ /);
    c.write(Buffer.concat([withNul, Buffer.from('\r\n')]));
    expect((await c.until((l) => l.startsWith('B1 '))).at(-1)).toMatch(/^B1 NO \[UNKNOWN-CTE\] /);
    const binary = Buffer.concat([Buffer.from('From: alice@example.test\r\nContent-Transfer-Encoding: binary\r\n\r\n'), Buffer.from([0xff, 0xfe, 0x01, 0x7f, 0x0d, 0x0a])]);
    c.write(`B2 APPEND INBOX ~{${binary.length}}\r\n`);
    expect(await c.line()).toMatch(/^\+ /);
    c.write(Buffer.concat([binary, Buffer.from('\r\n')]));
    expect((await c.until((l) => l.startsWith('B2 '))).at(-1)).toMatch(/^B2 OK/);
    expect(await inbox()).toBe(before + 1);
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
