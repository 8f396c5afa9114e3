/**
 * Bit flips in the on-disk blob files as real clients see them: a single
 * flipped bit per block is repaired before POP3 or IMAP serves the message
 * (byte for byte what was stored), and two flips in one block make the
 * message unavailable — never served as if it were good.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOB_HEADER_SIZE, DEFAULT_BLOCK_SIZE } from '../../src/crypto/blockcodec.js';
import { FsBlobStore } from '../../src/store/backends/fs/blobs.js';
import type { SplitBlobStore } from '../../src/store/split-blobs.js';
import { startPop3Fixture, type Pop3Fixture, type TestUser as PopUser } from '../pop3/harness.js';
import { b64, poplibSession } from '../pop3/python-client.js';
import { makeMessage, startHarness, type Harness, type Stored } from '../imap/harness.js';
import { fromB64, pyParams, runPython } from '../imap/python.js';

const SEED = Number(process.env.INTEGRITY_SEED ?? 20261128);
const BLOCK_WITH_CHECK = DEFAULT_BLOCK_SIZE + 8;

/** xorshift32: reproducible flips from a seed (ids and secrets never come from here). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

function flipBit(file: string, byte: number, bit: number): void {
  const b = readFileSync(file);
  b[byte]! ^= 1 << bit;
  writeFileSync(file, b);
}

/** Flips one random bit in one random block of the file (data or check bytes). */
function flipOneInRandomBlock(file: string, next: () => number): void {
  const size = readFileSync(file).length;
  const blocks = Math.floor((size - BLOB_HEADER_SIZE) / BLOCK_WITH_CHECK);
  const block = Math.floor(next() * blocks);
  const byte = BLOB_HEADER_SIZE + block * BLOCK_WITH_CHECK + Math.floor(next() * BLOCK_WITH_CHECK);
  flipBit(file, byte, Math.floor(next() * 8));
}

function bigMessage(n: number): Buffer {
  const lines = Array.from({ length: 400 }, (_, i) => `message ${n} line ${i} ${'x'.repeat(40)}`);
  return Buffer.from(`From: a@remote.test\r\nTo: u@example.test\r\nSubject: flip ${n}\r\nDate: Sat, 28 Nov 2026 10:00:00 +0000\r\n\r\n${lines.join('\r\n')}\r\n`);
}

describe('bit flips seen through POP3', () => {
  let f: Pop3Fixture;
  let user: PopUser;
  const sent: Buffer[] = [];
  beforeAll(async () => {
    f = await startPop3Fixture({ users: 1 });
    user = f.users[0]!;
    for (let i = 0; i < 6; i++) {
      const bytes = bigMessage(i);
      sent.push(bytes);
      await f.deliver(user, bytes);
    }
  });
  afterAll(async () => f?.close());

  it('serves every message intact after one flipped bit in each, and reports each repair', async () => {
    const next = rng(SEED);
    const stored = await f.store.meta.mailboxes.listMessages(user.inboxId);
    for (const m of stored) flipOneInRandomBlock(f.blobPath(m.blobId), next);
    const ops: [string, number][] = stored.map((_, i) => ['retr', i + 1]);
    const r = await poplibSession({ mode: 'ssl', port: f.ports.tls, ca: f.caFile, user: user.address, password: user.password }, [['login'], ...ops, ['quit']]);
    const got = r.results.slice(1, 1 + stored.length).map((x) => b64((x as { ok: string }).ok));
    expect(got.map((b) => b.toString('latin1'))).toEqual(sent.map((b) => b.toString('latin1')));
    // Events are recorded asynchronously after the read.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await f.store.meta.events.count('integrity.corrected')).toBe(stored.length);
  });

  it('refuses a message with two flipped bits in one block and keeps serving the others', async () => {
    const stored = await f.store.meta.mailboxes.listMessages(user.inboxId);
    const victim = stored[2]!;
    const at = BLOB_HEADER_SIZE + BLOCK_WITH_CHECK + 100; // second block, data area
    flipBit(f.blobPath(victim.blobId), at, 1);
    flipBit(f.blobPath(victim.blobId), at + 900, 6);
    const r = await poplibSession({ mode: 'ssl', port: f.ports.tls, ca: f.caFile, user: user.address, password: user.password }, [
      ['login'],
      ['retr', 3],
      ['retr', 4],
      ['quit'],
    ]);
    expect(r.results[1]).toMatchObject({ error: expect.stringMatching(/damaged/) });
    expect(b64((r.results[2] as { ok: string }).ok).equals(sent[3]!)).toBe(true);
  });
});

describe('bit flips seen through IMAP', () => {
  let h: Harness;
  let user: Parameters<typeof pyParams>[1];
  const msgs: Stored[] = [];
  beforeAll(async () => {
    h = await startHarness();
    user = await h.addUser('flips');
    for (let i = 0; i < 4; i++) {
      msgs.push(await h.addMessage(user, 'INBOX', makeMessage({ from: 'a@remote.test', subject: `flip ${i}`, date: 'Sat, 28 Nov 2026 10:00:00 +0000' }, `imap ${i} `.repeat(2000))));
    }
    const next = rng(SEED + 1);
    for (const m of msgs) flipOneInRandomBlock(((h.store.blobs as SplitBlobStore).files as FsBlobStore).pathOf(m.message.blobId), next);
    // Message 4 also gets a second flip in its first block: beyond repair.
    const last = ((h.store.blobs as SplitBlobStore).files as FsBlobStore).pathOf(msgs[3]!.message.blobId);
    flipBit(last, BLOB_HEADER_SIZE + 10, 0);
    flipBit(last, BLOB_HEADER_SIZE + 2000, 3);
  });
  afterAll(async () => h?.close());

  it('returns the repaired bytes for single flips and NO for the message beyond repair', async () => {
    const r = await runPython(
      `
m = login(tls())
ok(m.select('INBOX'), 'SELECT')
res = {}
for key in ['u1', 'u2', 'u3', 'u4']:
    typ, data = m.uid('FETCH', str(P[key]), '(BODY.PEEK[])')
    data = data + m.untagged_responses.pop('FETCH', [])
    res[key] = {'typ': typ, 'literals': [b64(x) for x in literals(data)]}
emit('res', res)
m.logout()
`,
      pyParams(h, user, { u1: msgs[0]!.uid, u2: msgs[1]!.uid, u3: msgs[2]!.uid, u4: msgs[3]!.uid }),
    );
    const res = r.res as Record<string, { typ: string; literals: string[] }>;
    for (const [i, key] of ['u1', 'u2', 'u3'].entries()) {
      expect(res[key]!.typ).toBe('OK');
      expect(fromB64(res[key]!.literals[0]).equals(msgs[i]!.bytes)).toBe(true);
    }
    expect(res.u4!.typ).toBe('NO');
    for (const lit of res.u4!.literals) expect(fromB64(lit).equals(msgs[3]!.bytes)).toBe(false);
  });
});
