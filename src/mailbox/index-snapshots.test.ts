import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type FedStore } from '../store/index.js';
import type { Folder, MailboxRepo } from '../store/types.js';
import { IndexSnapshots } from './index-snapshots.js';
import { MailboxView } from './view.js';

let dir: string;
let store: FedStore;
let repo: MailboxRepo;
let folder: Folder;

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'postern-snapshots-'));
  store = await openStore({ backend: 'sqlite', dataDir: dir });
  repo = store.meta.mailboxes;
  await store.meta.directory.addDomain('snap.test', 0);
  const acct = await store.meta.directory.addAccount({ address: 'a@snap.test', passwordHash: 'x' }, 0);
  folder = await repo.createFolder(acct.id, 'INBOX', null, 0);
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const append = (n: number, flags: string[] = []): Promise<unknown> =>
  Promise.all(Array.from({ length: n }, () => repo.append(folder.id, { blobId: 'b'.repeat(64), size: 10, internalDate: 0, flags })));

/** What a view holds, in a form to compare. */
function contents(v: MailboxView): unknown {
  const rows = [];
  for (let seq = 1; seq <= v.exists; seq++) rows.push([v.uidAt(seq), [...v.flagsAt(seq)], v.modseqAt(seq)]);
  return { rows, keywords: [...v.keywords()].sort() };
}

/** A view listed afresh from the store: what every SELECT built before snapshots. */
async function listed(): Promise<MailboxView> {
  const f = (await repo.getFolderById(folder.id))!;
  return new MailboxView(f.id, f.uidValidity, await repo.listIndex(f.id), f.highestModseq);
}

async function opened(snaps: IndexSnapshots): Promise<MailboxView> {
  return snaps.open(repo, (await repo.getFolderById(folder.id))!);
}

describe('IndexSnapshots', () => {
  it('gives a later SELECT the same view as a full listing, after appends, flag changes and expunges', async () => {
    const snaps = new IndexSnapshots(1000, 3);
    await append(6, ['\\Seen']);
    expect(contents(await opened(snaps))).toEqual(contents(await listed()));
    expect(snaps.size).toBe(6);
    await repo.storeFlags(folder.id, { uids: [2, 3], op: 'add', flags: ['$Work'] });
    await repo.storeFlags(folder.id, { uids: [3], op: 'remove', flags: ['\\Seen'] });
    await repo.expunge(folder.id, [1, 4]);
    await append(2);
    const again = await opened(snaps);
    expect(contents(again)).toEqual(contents(await listed()));
    expect(again.pendingExpunges).toBe(0);
    expect(again.highestModseq).toBe((await repo.getFolderById(folder.id))!.highestModseq);
    // A keyword nobody has any more drops out of the next view's FLAGS.
    await repo.storeFlags(folder.id, { uids: [2, 3], op: 'remove', flags: ['$Work'] });
    expect([...(await opened(snaps)).keywords()]).toEqual([]);
  });

  it('hands out copies: what one session changes in its view is not seen by the next', async () => {
    const snaps = new IndexSnapshots(1000, 3);
    await append(4);
    const first = await opened(snaps);
    first.setFlags(1, ['\\Deleted'], 999);
    first.markExpunged([2]);
    first.markRecent(3, 3);
    expect(contents(await opened(snaps))).toEqual(contents(await listed()));
  });

  it('keeps no snapshot of a small folder, and stays within its bound', async () => {
    const snaps = new IndexSnapshots(5, 3);
    await append(2);
    await opened(snaps);
    expect(snaps.size).toBe(0);
    await append(4);
    await opened(snaps);
    expect(snaps.size).toBe(0); // 6 messages: over the bound of 5
  });

  it('a deleted folder is listed (empty), never served from its snapshot', async () => {
    const snaps = new IndexSnapshots(1000, 3);
    await append(4);
    const f = (await repo.getFolderById(folder.id))!;
    await snaps.open(repo, f);
    await repo.deleteFolder(folder.id);
    const v = await snaps.open(repo, f);
    expect(v.exists).toBe(0);
    expect(snaps.size).toBe(0);
  });

  it('agrees with a full listing under any sequence of store changes', async () => {
    type Op = { kind: 'add'; n: number; seen: boolean } | { kind: 'flag'; pick: number; kw: boolean } | { kind: 'expunge'; pick: number } | { kind: 'select' };
    const op = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), n: fc.integer({ min: 1, max: 3 }), seen: fc.boolean() }),
      fc.record({ kind: fc.constant('flag' as const), pick: fc.nat(), kw: fc.boolean() }),
      fc.record({ kind: fc.constant('expunge' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('select' as const) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 25 }), async (ops: Op[]) => {
        await repo.expunge(folder.id, [...(await repo.listIndex(folder.id)).uids]);
        const snaps = new IndexSnapshots(1000, 1);
        await opened(snaps);
        for (const o of ops) {
          const uids = (await repo.listIndex(folder.id)).uids;
          if (o.kind === 'add') await append(o.n, o.seen ? ['\\Seen'] : []);
          else if (o.kind === 'flag' && uids.length > 0) {
            await repo.storeFlags(folder.id, { uids: [uids[o.pick % uids.length]!], op: o.kw ? 'add' : 'set', flags: o.kw ? ['$k'] : ['\\Flagged'] });
          } else if (o.kind === 'expunge' && uids.length > 0) await repo.expunge(folder.id, [uids[o.pick % uids.length]!]);
          else if (o.kind === 'select') expect(contents(await opened(snaps))).toEqual(contents(await listed()));
        }
        const last = await opened(snaps);
        const fresh = await listed();
        expect(contents(last)).toEqual(contents(fresh));
        expect(last.highestModseq).toBe(fresh.highestModseq);
      }),
      { numRuns: 30 },
    );
  });
});
