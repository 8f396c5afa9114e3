/**
 * The retro-scan's walk over a real (SQLite) store: selection by mailbox and
 * group, the time window, one classification per distinct blob, batches,
 * progress, and every message accounted for (matched, encrypted, corrupt,
 * failed). The classifier is the scan's seam: here one that reads a marker,
 * so the walk is tested apart from the detectors (test/cli/dlp.test.ts runs
 * the real ones).
 */
import { rmSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { provisionMailbox } from '../../mailbox/provision.js';
import { openStore } from '../../store/index.js';
import type { Store } from '../../store/types.js';
import { scanExitCode, ScanSelectionError, scanStoredMail, type ScanItem } from './scan.js';
import type { Classification } from './types.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 1);

let dir: string;
let store: Store;

const msg = (subject: string, body: string) => new TextEncoder().encode(`From: a@example.test\r\nSubject: ${subject}\r\n\r\n${body}\r\n`);

/** Matches "CARD" (rule cards), reports "ENCRYPTED" as an encrypted message, throws on "BOOM". */
function markerClassifier(calls: { n: number }) {
  return async (raw: Uint8Array): Promise<Classification> => {
    calls.n++;
    const t = new TextDecoder().decode(raw);
    if (t.includes('BOOM')) throw new Error('policy task dlp.classify exceeded its budget of 10 ms');
    const encrypted = t.includes('ENCRYPTED');
    return {
      matches: [
        ...(t.includes('CARD') ? [{ rule: 'cards', confidence: 'high' as const, detectors: [{ detector: 'cards', count: 1, confidence: 'high' as const, samples: [{ masked: '4111 **** **** 1111', source: 'body:1' }] }] }] : []),
        ...(encrypted ? [{ rule: 'unscannable', confidence: 'high' as const, detectors: [] }] : []),
      ],
      nearMisses: [],
      findings: encrypted ? [{ kind: 'encrypted-message', part: 'body:1', detail: 'S/MIME enveloped data' }] : [],
      encrypted,
      chars: t.length,
      ms: 1,
    };
  };
}

async function account(address: string) {
  const a = await store.meta.directory.addAccount({ address, passwordHash: '$scrypt$x' }, NOW);
  await provisionMailbox(store.meta.mailboxes, a.id, NOW);
  return a;
}

async function deliver(address: string, folder: string, raw: Uint8Array, at = NOW) {
  const a = (await store.meta.directory.getAccount(address))!;
  const f = (await store.meta.mailboxes.getFolder(a.id, folder))!;
  const ref = await store.blobs.put(raw);
  return { blobId: ref.id, m: await store.meta.mailboxes.append(f.id, { blobId: ref.id, size: ref.size, internalDate: at }) };
}

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'postern-dlp-scan-'));
  store = await openStore({ backend: 'sqlite', dataDir: dir });
  await store.meta.directory.addDomain('example.test', NOW);
  await account('alice@example.test');
  await account('bob@example.test');
  await account('carol@example.test');
  await store.meta.directory.addGroup('legal', 'Legal');
  await store.meta.directory.addGroupMember('legal', 'bob@example.test');
  await store.meta.directory.addGroupMember('legal', 'someone@elsewhere.test');
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('scanStoredMail', () => {
  it('reports every matched copy by mailbox, folder and UID, classifying a shared blob once', async () => {
    const card = msg('invoice', 'CARD here');
    await deliver('alice@example.test', 'INBOX', msg('hello', 'nothing'));
    const a = await deliver('alice@example.test', 'INBOX', card);
    const b = await deliver('bob@example.test', 'Archive', card);
    const calls = { n: 0 };
    const items: ScanItem[] = [];
    const s = await scanStoredMail(store, { since: 0, classify: markerClassifier(calls), onItem: (i) => items.push(i), batch: 1 });
    expect(calls.n).toBe(2);
    expect(items).toEqual([
      expect.objectContaining({ kind: 'match', mailbox: 'alice@example.test', folder: 'INBOX', uid: a.m.uid }),
      expect.objectContaining({ kind: 'match', mailbox: 'bob@example.test', folder: 'Archive', uid: b.m.uid }),
    ]);
    expect(s).toMatchObject({ accounts: 3, messages: 3, matched: 2, classified: 2, byRule: { cards: 2 }, encrypted: 0, corrupt: 0, failed: 0 });
    expect(scanExitCode(s)).toBe(1);
  });

  it('lists an encrypted message as not scannable rather than as a match of the unscannable rule', async () => {
    const e = await deliver('carol@example.test', 'INBOX', msg('sealed', 'ENCRYPTED'));
    const items: ScanItem[] = [];
    const s = await scanStoredMail(store, { since: 0, classify: markerClassifier({ n: 0 }), unscannableRule: 'unscannable', onItem: (i) => items.push(i) });
    expect(items).toEqual([{ kind: 'encrypted', mailbox: 'carol@example.test', folder: 'INBOX', uid: e.m.uid, detail: 'body:1: S/MIME enveloped data' }]);
    expect(s).toMatchObject({ matched: 0, encrypted: 1, byRule: {} });
    expect(scanExitCode(s)).toBe(0);
  });

  it('lists a message with an encrypted attachment as not scannable, never as clean', async () => {
    const e = await deliver('carol@example.test', 'INBOX', msg('zip', 'LOCKED'));
    const items: ScanItem[] = [];
    const classify = async (): Promise<Classification> => ({
      matches: [{ rule: 'unscannable', confidence: 'high', detectors: [] }],
      nearMisses: [],
      findings: [{ kind: 'encrypted', part: 'attachment:2/files.zip', detail: 'encrypted ZIP entries' }],
      encrypted: false,
      chars: 10,
      ms: 1,
    });
    await scanStoredMail(store, { since: 0, classify, unscannableRule: 'unscannable', onItem: (i) => items.push(i) });
    expect(items).toEqual([{ kind: 'encrypted', mailbox: 'carol@example.test', folder: 'INBOX', uid: e.m.uid, detail: 'attachment:2/files.zip: encrypted ZIP entries' }]);
  });

  it('reports a corrupt blob and a failed classification, and goes on', async () => {
    const bad = await deliver('alice@example.test', 'INBOX', msg('damaged', 'CARD '.repeat(500)));
    await deliver('alice@example.test', 'INBOX', msg('slow', 'BOOM'));
    await deliver('alice@example.test', 'Sent', msg('later', 'CARD'));
    writeFileSync(path.join(dir, 'blobs', bad.blobId.slice(0, 2), bad.blobId), Buffer.alloc(64, 0x41));
    const items: ScanItem[] = [];
    const s = await scanStoredMail(store, { since: 0, classify: markerClassifier({ n: 0 }), onItem: (i) => items.push(i) });
    expect(items.map((i) => [i.kind, i.folder])).toEqual([
      ['corrupt', 'INBOX'],
      ['failed', 'INBOX'],
      ['match', 'Sent'],
    ]);
    expect(items[1]).toMatchObject({ detail: expect.stringMatching(/exceeded its budget/) });
    expect(s).toMatchObject({ messages: 3, matched: 1, corrupt: 1, failed: 1 });
    expect(scanExitCode(s)).toBe(2);
  });

  it('keeps to the time window, the mailbox and the group', async () => {
    await deliver('alice@example.test', 'INBOX', msg('old', 'CARD'), NOW - 40 * DAY);
    await deliver('alice@example.test', 'INBOX', msg('new', 'CARD new'), NOW - DAY);
    await deliver('bob@example.test', 'INBOX', msg('bob', 'CARD bob'), NOW - DAY);
    const run = async (o: { since: number; mailbox?: string; group?: string }) => {
      const items: ScanItem[] = [];
      const s = await scanStoredMail(store, { ...o, classify: markerClassifier({ n: 0 }), onItem: (i) => items.push(i) });
      return { s, who: items.map((i) => i.mailbox) };
    };
    expect((await run({ since: NOW - 30 * DAY })).who).toEqual(['alice@example.test', 'bob@example.test']);
    expect((await run({ since: 0, mailbox: 'Alice@Example.test' })).who).toEqual(['alice@example.test', 'alice@example.test']);
    const g = await run({ since: 0, group: 'legal' });
    expect(g.who).toEqual(['bob@example.test']);
    expect(g.s.accounts).toBe(1); // the outside member has no mailbox here
    await expect(run({ since: 0, mailbox: 'nobody@example.test' })).rejects.toThrow(ScanSelectionError);
    await expect(run({ since: 0, group: 'finance' })).rejects.toThrow(/finance: no such group/);
    await expect(run({ since: 0, mailbox: 'alice@example.test', group: 'legal' })).rejects.toThrow(/not both/);
  });

  it('streams in batches with progress that ends at the total', async () => {
    for (let i = 0; i < 7; i++) await deliver('alice@example.test', 'INBOX', msg(`m${i}`, i % 3 === 0 ? `CARD ${i}` : `plain ${i}`));
    const seen: [number, number][] = [];
    const s = await scanStoredMail(store, { since: 0, batch: 3, concurrency: 2, classify: markerClassifier({ n: 0 }), onProgress: (d, t) => seen.push([d, t]) });
    expect(seen[0]).toEqual([0, 7]);
    expect(seen.at(-1)).toEqual([7, 7]);
    expect(seen.map(([d]) => d)).toEqual([0, 3, 6, 7]);
    expect(s).toMatchObject({ messages: 7, matched: 3, classified: 7 });
  });

  it('classifies a blob again once it is no longer remembered, and counts each copy', async () => {
    const card = msg('x', 'CARD');
    await deliver('alice@example.test', 'INBOX', card);
    await deliver('alice@example.test', 'INBOX', msg('y', 'other'));
    await deliver('alice@example.test', 'Sent', card);
    const calls = { n: 0 };
    const s = await scanStoredMail(store, { since: 0, remember: 1, classify: markerClassifier(calls) });
    expect(calls.n).toBe(3);
    expect(s.matched).toBe(2);
  });
});
