/**
 * The MIME parser reads at most DEFAULT_MAX_PARTS (1,000) parts of a message,
 * the message itself included. With imaplib: such a message is still served
 * whole by BODY[] and BINARY[], the parts inside the limit are reachable,
 * and a part past it is refused with NO [LIMIT] rather than shown empty.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_PARTS } from '../../src/codec/mime/index.js';
import { startHarness, type Harness, type TestUser } from './harness.js';
import { pyParams, runPython } from './python.js';

let h: Harness;
let user: TestUser;
const CHILDREN = DEFAULT_MAX_PARTS + 5;

function manyParts(): Buffer {
  const parts = Array.from({ length: CHILDREN }, (_, i) => `--b\r\nContent-Type: text/plain\r\n\r\npart ${i + 1}\r\n`);
  return Buffer.from(`From: alice@example.test\r\nSubject: many\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n${parts.join('')}--b--\r\n`);
}

beforeAll(async () => {
  h = await startHarness();
  user = await h.addUser('parts');
  await h.addMessage(user, 'INBOX', manyParts());
});
afterAll(async () => {
  await h?.close();
});

describe('a message over the MIME part limit', () => {
  it('is served whole, parts inside the limit are reachable, parts past it are refused clearly', async () => {
    // The message itself is part one of the count: its children 1..999 are read.
    const last = DEFAULT_MAX_PARTS - 1;
    const r = await runPython(
      `
m = login(tls())
m.select('INBOX')
typ, data = m.fetch('1', '(BODY.PEEK[])')
emit('whole', b64(one_literal(data, 'BODY[]')))
typ, data = m.fetch('1', '(BINARY.PEEK[])')
emit('binary', b64(one_literal(data, 'BINARY[]')))
typ, data = m.fetch('1', '(BODY.PEEK[%d])' % P['last'])
emit('last', one_literal(data, 'last part').decode())
for n in (P['last'] + 1, P['children']):
    typ, data = m._simple_command('FETCH', '1', '(BODY.PEEK[%d])' % n)
    emit('past%d' % n, [typ, data[0].decode()])
typ, data = m._simple_command('FETCH', '1', '(BINARY.PEEK[%d])' % P['children'])
emit('pastbinary', [typ, data[0].decode()])
m.logout()
`,
      pyParams(h, user, { last, children: CHILDREN }),
    );
    const bytes = manyParts();
    expect(Buffer.from(String(r.whole), 'base64').equals(bytes)).toBe(true);
    expect(Buffer.from(String(r.binary), 'base64').equals(bytes)).toBe(true);
    expect(r.last).toBe(`part ${last}`);
    for (const key of [`past${last + 1}`, `past${CHILDREN}`, 'pastbinary']) {
      const [typ, text] = r[key] as string[];
      expect(typ, key).toBe('NO');
      expect(text, key).toMatch(/^\[LIMIT\] Part \d+ lies past the 1000 MIME parts postern reads/);
    }
  });
});
