/**
 * A message whose stored blob is damaged beyond repair: FETCH of its body
 * answers NO (neither the garbage nor an empty message), and the session
 * goes on serving the other messages.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeMessage, startHarness, type Harness, type Stored, type TestUser } from './harness.js';
import { FsBlobStore } from '../../src/store/backends/fs/blobs.js';
import type { SplitBlobStore } from '../../src/store/split-blobs.js';
import { fromB64, pyParams, runPython } from './python.js';

let h: Harness;
let user: TestUser;
const msgs: Stored[] = [];
let garbage: Buffer;

beforeAll(async () => {
  h = await startHarness();
  user = await h.addUser('unlucky');
  for (let i = 0; i < 3; i++) {
    msgs.push(
      await h.addMessage(
        user,
        'INBOX',
        makeMessage({ from: 'a@remote.test', subject: `keep ${i}`, date: 'Sat, 6 Jan 2024 10:00:00 +0000' }, `message ${i} `.repeat(200)),
      ),
    );
  }
  // Overwrite the middle message's blob file with garbage of a plausible size.
  garbage = randomBytes(msgs[1]!.bytes.length + 64);
  writeFileSync(((h.store.blobs as SplitBlobStore).files as FsBlobStore).pathOf(msgs[1]!.message.blobId), garbage);
});

afterAll(async () => {
  await h?.close();
});

describe('a damaged message', () => {
  it('FETCH answers NO for it, and the other messages are still served', async () => {
    const [ok1, bad, ok3] = msgs as [Stored, Stored, Stored];
    const r = await runPython(
      `
m = login(tls())
ok(m.select('INBOX'), 'SELECT')
res = {}
for key, uid, item in [('bad_peek', P['bad'], 'BODY.PEEK[]'), ('bad_text', P['bad'], 'BODY[TEXT]'), ('bad_rfc822', P['bad'], 'RFC822'), ('bad_header', P['bad'], 'BODY.PEEK[HEADER]'), ('bad_range', '1:*', 'BODY.PEEK[]')]:
    typ, data = m.uid('FETCH', str(uid), '(%s)' % item)
    # On NO imaplib leaves the untagged FETCH data in place: take it, it is what the server sent.
    data = data + m.untagged_responses.pop('FETCH', [])
    res[key] = {'typ': typ, 'literals': [b64(x) for x in literals(data)], 'text': [x.decode('latin1') for x in data if isinstance(x, bytes)]}
res['good1'] = b64(one_literal(ok(m.uid('FETCH', str(P['good1']), '(BODY.PEEK[])'), 'good1'), 'good1'))
res['good3'] = b64(one_literal(ok(m.uid('FETCH', str(P['good3']), '(BODY.PEEK[])'), 'good3'), 'good3'))
res['flags'] = ok(m.uid('FETCH', str(P['bad']), '(FLAGS)'), 'FLAGS')[0].decode()
res['noop'] = m.noop()[0]
emit('res', res)
m.logout()
`,
      pyParams(h, user, { bad: bad.uid, good1: ok1.uid, good3: ok3.uid }),
    );
    const res = r.res as Record<string, { typ: string; literals: string[]; text: string[] }> & Record<string, unknown>;
    for (const key of ['bad_peek', 'bad_text', 'bad_rfc822', 'bad_range']) {
      const got = res[key] as { typ: string; literals: string[] };
      expect(got.typ, `${key}: the tagged reply`).toBe('NO');
      for (const lit of got.literals) {
        const b = fromB64(lit);
        expect(b.length, `${key}: no empty body in place of the message`).toBeGreaterThan(0);
        expect(garbage.includes(b.subarray(0, 32)), `${key}: garbage served`).toBe(false);
      }
    }
    // A range that includes it serves the others, exactly, and leaves the damaged one out.
    const served = (res.bad_range as { literals: string[] }).literals.map((l) => fromB64(l));
    expect(served.map((b) => b.toString('latin1')).sort()).toEqual([ok1.bytes, ok3.bytes].map((b) => b.toString('latin1')).sort());
    // The header lives in the same blob: it cannot be served either.
    expect((res.bad_header as { typ: string }).typ).toBe('NO');
    expect(fromB64(res.good1).equals(ok1.bytes)).toBe(true);
    expect(fromB64(res.good3).equals(ok3.bytes)).toBe(true);
    expect(String(res.flags)).toMatch(/FLAGS \(/);
    expect(res.noop).toBe('OK');
    // RFC822 on a message that could not be read must not have marked it \Seen.
    const [stored] = await h.store.meta.mailboxes.getMessages((await h.folder(user, 'INBOX')).id, [bad.uid]);
    expect(stored!.flags).not.toContain('\\Seen');
  });
});
