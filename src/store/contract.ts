/**
 * The store contract: every backend runs this one suite (after Hono's
 * router/common.case.test.ts). A backend's test file calls runStoreContract
 * with a factory that opens a fresh, empty store.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { KEYWORD_LIMITS, type DmarcReportInput, type Lease, type NewQueueMessage, type NewRecipient, type ScanLease, type Store } from './types.js';
import type { Verdict } from '../core/verdict.js';
import { newQueueId } from '../core/ids.js';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { verifyChain, type AuditRecord } from '../crypto/hashchain.js';

/** Runs one SQL statement on the store's own database, behind the repositories (tamper tests). */
export type RawSql = (s: Store, statement: string) => Promise<void>;

export function runStoreContract(name: string, open: () => Promise<Store>, rawSql?: RawSql): void {
  describe(`store contract: ${name}`, () => {
    let s: Store;
    beforeEach(async () => {
      s = await open();
    });
    afterEach(async () => {
      await s.close();
    });

    const addUser = async (address = 'alice@example.org') => {
      if (!(await s.meta.directory.hasDomain('example.org'))) await s.meta.directory.addDomain('example.org', 1);
      return s.meta.directory.addAccount({ address, passwordHash: '$scrypt$x', displayName: 'Alice' }, 2);
    };

    describe('blobs', () => {
      it('stores bytes once and returns them exactly', async () => {
        const data = new Uint8Array([0, 1, 2, 255, 13, 10, 46, 13, 10]);
        const a = await s.blobs.put(data);
        const b = await s.blobs.put(data.slice());
        expect(a.id).toBe(b.id);
        expect(a.size).toBe(9);
        expect(Buffer.from(await s.blobs.get(a.id))).toEqual(Buffer.from(data));
        const ids: string[] = [];
        for await (const id of s.blobs.list()) ids.push(id);
        expect(ids).toEqual([a.id]);
      });

      it('reports a missing blob as NOT_FOUND and a malformed id likewise', async () => {
        await expect(s.blobs.get('0'.repeat(64))).rejects.toMatchObject({ code: 'NOT_FOUND' });
        await expect(s.blobs.get('../../etc/passwd')).rejects.toMatchObject({ code: 'NOT_FOUND' });
        expect(await s.blobs.has('0'.repeat(64))).toBe(false);
      });

      it('deletes', async () => {
        const a = await s.blobs.put(Buffer.from('bye'));
        await s.blobs.delete(a.id);
        expect(await s.blobs.has(a.id)).toBe(false);
      });

      it('handles empty and large blobs', async () => {
        const empty = await s.blobs.put(new Uint8Array(0));
        expect((await s.blobs.get(empty.id)).length).toBe(0);
        const big = Buffer.alloc(3 * 1024 * 1024 + 7, 0xa5);
        const r = await s.blobs.put(big);
        expect(Buffer.from(await s.blobs.get(r.id)).equals(big)).toBe(true);
      });
    });

    describe('directory', () => {
      it('keeps domains, accounts, roles and disabled state', async () => {
        const a = await addUser();
        expect(await s.meta.directory.hasDomain('example.org')).toBe(true);
        expect(await s.meta.directory.hasDomain('example.com')).toBe(false);
        expect(a.roles).toEqual(['user']);
        expect((await s.meta.directory.getAccount('alice@example.org'))?.id).toBe(a.id);
        await s.meta.directory.setRoles(a.address, ['user', 'mailadmin']);
        await s.meta.directory.setDisabled(a.address, true);
        expect(a.scramKeys).toBeNull();
        await s.meta.directory.setPasswordHash(a.address, '$scrypt$y', 'SCRAM-SHA-256$4096:c2FsdA==$a:b');
        const b = await s.meta.directory.getAccountById(a.id);
        expect(b).toMatchObject({ roles: ['user', 'mailadmin'], disabled: true, passwordHash: '$scrypt$y', scramKeys: 'SCRAM-SHA-256$4096:c2FsdA==$a:b' });
        // A hash set without keys clears the old keys: the old password must not live on in them.
        await s.meta.directory.setPasswordHash(a.address, '$scrypt$z');
        expect((await s.meta.directory.getAccount(a.address))?.scramKeys).toBeNull();
        expect((await s.meta.directory.listAccounts('example.org')).map((x) => x.address)).toEqual(['alice@example.org']);
        const c = await s.meta.directory.addAccount({ address: 'carol@example.org', passwordHash: '$scrypt$x', scramKeys: 'SCRAM-SHA-256$k' }, 2);
        expect(c.scramKeys).toBe('SCRAM-SHA-256$k');
      });

      it('refuses duplicates and accounts in unknown domains', async () => {
        await addUser();
        await expect(addUser()).rejects.toThrow(/exists/);
        await expect(s.meta.directory.addDomain('example.org', 3)).rejects.toThrow(/exists/);
        await expect(s.meta.directory.addAccount({ address: 'x@nowhere.test', passwordHash: 'h' }, 1)).rejects.toThrow(/not a local domain/);
        await expect(s.meta.directory.setDisabled('ghost@example.org', true)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      });

      it('keeps aliases and groups', async () => {
        await addUser();
        await s.meta.directory.addAlias('sales@example.org', 'alice@example.org');
        await s.meta.directory.addAlias('sales@example.org', 'bob@elsewhere.test');
        expect(await s.meta.directory.getAliasTargets('sales@example.org')).toEqual(['alice@example.org', 'bob@elsewhere.test']);
        await s.meta.directory.addGroup('finance', 'Finance department');
        await s.meta.directory.addGroupMember('finance', 'alice@example.org');
        expect(await s.meta.directory.listGroupMembers('finance')).toEqual(['alice@example.org']);
        expect(await s.meta.directory.groupsOf('alice@example.org')).toEqual(['finance']);
        await expect(s.meta.directory.addGroupMember('nope', 'alice@example.org')).rejects.toMatchObject({ code: 'NOT_FOUND' });
        await s.meta.directory.removeGroupMember('finance', 'alice@example.org');
        expect(await s.meta.directory.groupsOf('alice@example.org')).toEqual([]);
      });
    });

    describe('mailboxes', () => {
      it('assigns ascending UIDs and modseqs and keeps UIDVALIDITY', async () => {
        const a = await addUser();
        const f = await s.meta.mailboxes.createFolder(a.id, 'INBOX', null, Date.now());
        expect(f.uidNext).toBe(1);
        const blob = await s.blobs.put(Buffer.from('Subject: x\r\n\r\nhi\r\n'));
        const m1 = await s.meta.mailboxes.append(f.id, { blobId: blob.id, size: blob.size, internalDate: 10 });
        const m2 = await s.meta.mailboxes.append(f.id, { blobId: blob.id, size: blob.size, internalDate: 11, flags: ['\\Seen'] });
        expect([m1.uid, m2.uid]).toEqual([1, 2]);
        expect(m2.modseq).toBeGreaterThan(m1.modseq);
        const f2 = (await s.meta.mailboxes.getFolder(a.id, 'INBOX'))!;
        expect(f2.uidNext).toBe(3);
        expect(f2.uidValidity).toBe(f.uidValidity);
        expect((await s.meta.mailboxes.listMessages(f.id)).map((m) => [m.uid, m.flags])).toEqual([
          [1, []],
          [2, ['\\Seen']],
        ]);
        expect(await s.meta.mailboxes.usage(a.id)).toBe(2 * blob.size);
        await expect(s.meta.mailboxes.createFolder(a.id, 'INBOX', null, 1)).rejects.toThrow(/exists/);
      });
    });

    describe('mailbox operations', () => {
      const setup = async () => {
        const a = await addUser();
        const inbox = await s.meta.mailboxes.createFolder(a.id, 'INBOX', null, 1);
        const blob = await s.blobs.put(Buffer.from('Subject: m\r\n\r\nbody\r\n'));
        for (let i = 0; i < 5; i++) await s.meta.mailboxes.append(inbox.id, { blobId: blob.id, size: blob.size, internalDate: i });
        return { a, inbox, blob };
      };

      it('stores flags case-insensitively, bumps modseq, honours UNCHANGEDSINCE', async () => {
        const { inbox } = await setup();
        const before = (await s.meta.mailboxes.getFolderById(inbox.id))!.highestModseq;
        let r = await s.meta.mailboxes.storeFlags(inbox.id, { uids: [1, 2, 99], op: 'add', flags: ['\\Seen', '$Label'] });
        expect(r.changed.map((m) => [m.uid, m.flags])).toEqual([
          [1, ['$Label', '\\Seen']],
          [2, ['$Label', '\\Seen']],
        ]);
        // Each changed message has its own modseq, ascending by UID, and the folder's is the last of them.
        expect(r.changed.map((m) => m.modseq)).toEqual([before + 1, before + 2]);
        expect((await s.meta.mailboxes.getFolderById(inbox.id))!.highestModseq).toBe(before + 2);
        expect((await s.meta.mailboxes.getMessages(inbox.id, [1, 2])).map((m) => m.modseq)).toEqual([before + 1, before + 2]);
        r = await s.meta.mailboxes.storeFlags(inbox.id, { uids: [1], op: 'add', flags: ['\\SEEN'] });
        expect(r.changed).toEqual([]); // already set, no new modseq
        r = await s.meta.mailboxes.storeFlags(inbox.id, { uids: [1, 3], op: 'remove', flags: ['$label'], unchangedSince: before });
        expect(r.conflicts).toEqual([1]);
        expect(r.changed).toEqual([]);
        r = await s.meta.mailboxes.storeFlags(inbox.id, { uids: [2], op: 'set', flags: ['\\Flagged'] });
        expect(r.changed[0]!.flags).toEqual(['\\Flagged']);
        const ch = await s.meta.mailboxes.changesSince(inbox.id, before);
        expect(ch.changed.map((m) => m.uid)).toEqual([1, 2]);
        expect(ch.highestModseq).toBe((await s.meta.mailboxes.getFolderById(inbox.id))!.highestModseq);
      });

      it('caps keywords per mailbox and per message, changes nothing when refused, and counts only keywords in use', async () => {
        const { inbox, blob } = await setup();
        const { perMailbox, maxLength } = KEYWORD_LIMITS;
        const kw = (from: number, n: number) => Array.from({ length: n }, (_, i) => `k${from + i}`);
        // One STORE with thousands of new keywords is refused whole (and quickly: applyFlags is linear).
        await expect(s.meta.mailboxes.storeFlags(inbox.id, { uids: [1], op: 'add', flags: kw(0, 20_000) })).rejects.toMatchObject({ code: 'LIMIT' });
        expect((await s.meta.mailboxes.getMessages(inbox.id, [1]))[0]!.flags).toEqual([]);
        await s.meta.mailboxes.storeFlags(inbox.id, { uids: [1], op: 'add', flags: kw(0, perMailbox - 1) });
        // Case-insensitively the same keyword: no new one.
        await s.meta.mailboxes.storeFlags(inbox.id, { uids: [2], op: 'add', flags: ['K0', '\\Seen'] });
        await s.meta.mailboxes.storeFlags(inbox.id, { uids: [2], op: 'add', flags: ['last'] });
        const before = (await s.meta.mailboxes.getFolderById(inbox.id))!.highestModseq;
        await expect(s.meta.mailboxes.storeFlags(inbox.id, { uids: [3], op: 'add', flags: ['\\Flagged', 'one-more'] })).rejects.toMatchObject({ code: 'LIMIT' });
        await expect(s.meta.mailboxes.storeFlags(inbox.id, { uids: [3], op: 'set', flags: ['other'] })).rejects.toMatchObject({ code: 'LIMIT' });
        await expect(s.meta.mailboxes.append(inbox.id, { blobId: blob.id, size: blob.size, internalDate: 9, flags: ['brand-new'] })).rejects.toMatchObject({ code: 'LIMIT' });
        expect((await s.meta.mailboxes.getFolderById(inbox.id))!.highestModseq).toBe(before);
        expect((await s.meta.mailboxes.listMessages(inbox.id)).map((m) => m.flags.length)).toEqual([perMailbox - 1, 3, 0, 0, 0]);
        // Keywords in use may still be set anywhere, and appended.
        await s.meta.mailboxes.storeFlags(inbox.id, { uids: [3], op: 'add', flags: ['k5', 'LAST'] });
        await s.meta.mailboxes.append(inbox.id, { blobId: blob.id, size: blob.size, internalDate: 9, flags: ['k7'] });
        // Removing a keyword everywhere makes room for a new one.
        await s.meta.mailboxes.storeFlags(inbox.id, { uids: [1], op: 'remove', flags: ['k1', 'k2'] });
        await s.meta.mailboxes.storeFlags(inbox.id, { uids: [4], op: 'add', flags: ['fresh', 'fresh2'] });
        await expect(s.meta.mailboxes.storeFlags(inbox.id, { uids: [4], op: 'add', flags: ['fresh3'] })).rejects.toMatchObject({ code: 'LIMIT' });
        // Too long a keyword, and a message past its own cap.
        await expect(s.meta.mailboxes.storeFlags(inbox.id, { uids: [5], op: 'add', flags: ['x'.repeat(maxLength + 1)] })).rejects.toMatchObject({ code: 'LIMIT' });
        const other = await s.meta.mailboxes.createFolder(inbox.accountId, 'Other', null, 1);
        await expect(
          s.meta.mailboxes.append(other.id, { blobId: blob.id, size: blob.size, internalDate: 1, flags: kw(0, KEYWORD_LIMITS.perMessage + 1) }),
        ).rejects.toMatchObject({ code: 'LIMIT' });
        // A copy into a folder without room is refused too.
        const m = await s.meta.mailboxes.append(other.id, { blobId: blob.id, size: blob.size, internalDate: 1, flags: kw(1000, perMailbox) });
        await expect(s.meta.mailboxes.copy(inbox.id, [4], other.id, 1)).rejects.toMatchObject({ code: 'LIMIT' });
        expect((await s.meta.mailboxes.listMessages(other.id)).map((x) => x.uid)).toEqual([m.uid]);
      });

      it('expunges, remembers expunged UIDs, and never reuses a UID', async () => {
        const { inbox, blob } = await setup();
        const before = (await s.meta.mailboxes.getFolderById(inbox.id))!.highestModseq;
        expect(await s.meta.mailboxes.expunge(inbox.id, [5, 2, 42])).toEqual([2, 5]);
        expect((await s.meta.mailboxes.listMessages(inbox.id)).map((m) => m.uid)).toEqual([1, 3, 4]);
        expect((await s.meta.mailboxes.changesSince(inbox.id, before)).expunged).toEqual([2, 5]);
        const m = await s.meta.mailboxes.append(inbox.id, { blobId: blob.id, size: blob.size, internalDate: 9 });
        expect(m.uid).toBe(6);
      });

      it('copies and moves with new UIDs in the target, atomically', async () => {
        const { a, inbox } = await setup();
        const arch = await s.meta.mailboxes.createFolder(a.id, 'Archive', '\\Archive', 1);
        expect(await s.meta.mailboxes.copy(inbox.id, [2, 4], arch.id, 1)).toEqual([
          [2, 1],
          [4, 2],
        ]);
        expect(await s.meta.mailboxes.move(inbox.id, [1, 4], arch.id, 1)).toEqual([
          [1, 3],
          [4, 4],
        ]);
        expect((await s.meta.mailboxes.listMessages(inbox.id)).map((m) => m.uid)).toEqual([2, 3, 5]);
        expect((await s.meta.mailboxes.listMessages(arch.id)).map((m) => m.uid)).toEqual([1, 2, 3, 4]);
        expect((await s.meta.mailboxes.getMessages(arch.id, [4, 1, 77])).map((m) => m.uid)).toEqual([1, 4]);
      });

      it('renames folders with their children, INBOX by moving its messages, and deletes', async () => {
        const { a, inbox, blob } = await setup();
        await s.meta.mailboxes.createFolder(a.id, 'Work', null, 1);
        const child = await s.meta.mailboxes.createFolder(a.id, 'Work/2026', null, 1);
        await s.meta.mailboxes.renameFolder(a.id, 'Work', 'Jobs', 2);
        expect((await s.meta.mailboxes.listFolders(a.id)).map((f) => f.name)).toEqual(['INBOX', 'Jobs', 'Jobs/2026']);
        expect((await s.meta.mailboxes.getFolder(a.id, 'Jobs/2026'))!.id).toBe(child.id);
        await s.meta.mailboxes.renameFolder(a.id, 'INBOX', 'Old', 3);
        expect(await s.meta.mailboxes.listMessages(inbox.id)).toEqual([]);
        expect((await s.meta.mailboxes.listMessages((await s.meta.mailboxes.getFolder(a.id, 'Old'))!.id)).length).toBe(5);
        await expect(s.meta.mailboxes.renameFolder(a.id, 'Nope', 'X', 3)).rejects.toMatchObject({ code: 'NOT_FOUND' });
        await expect(s.meta.mailboxes.renameFolder(a.id, 'Jobs', 'Old', 3)).rejects.toThrow(/exists/);
        const old = (await s.meta.mailboxes.getFolder(a.id, 'Old'))!;
        expect(await s.meta.mailboxes.blobReferences(blob.id)).toBe(5);
        await s.meta.mailboxes.deleteFolder(old.id);
        expect(await s.meta.mailboxes.getFolder(a.id, 'Old')).toBeNull();
        expect(await s.meta.mailboxes.blobReferences(blob.id)).toBe(0);
      });

      it('keeps subscriptions apart from folders', async () => {
        const { a } = await setup();
        const other = await addUser('sub-other@example.org');
        await s.meta.mailboxes.createFolder(a.id, 'Work', null, 1);
        expect(await s.meta.mailboxes.listSubscriptions(a.id)).toEqual([]);
        await s.meta.mailboxes.setSubscription(a.id, 'Work', true);
        await s.meta.mailboxes.setSubscription(a.id, 'Work', true);
        await s.meta.mailboxes.setSubscription(a.id, 'Gone/Child', true);
        await s.meta.mailboxes.setSubscription(other.id, 'Elsewhere', true);
        expect(await s.meta.mailboxes.listSubscriptions(a.id)).toEqual(['Gone/Child', 'Work']);
        await s.meta.mailboxes.deleteFolder((await s.meta.mailboxes.getFolder(a.id, 'Work'))!.id);
        expect(await s.meta.mailboxes.listSubscriptions(a.id)).toEqual(['Gone/Child', 'Work']);
        await s.meta.mailboxes.setSubscription(a.id, 'Work', false);
        await s.meta.mailboxes.setSubscription(a.id, 'Never', false);
        expect(await s.meta.mailboxes.listSubscriptions(a.id)).toEqual(['Gone/Child']);
        expect(await s.meta.mailboxes.listSubscriptions(other.id)).toEqual(['Elsewhere']);
      });

      it('lists a lean index and counts a folder for STATUS', async () => {
        const { inbox, blob } = await setup();
        await s.meta.mailboxes.storeFlags(inbox.id, { uids: [2, 4], op: 'add', flags: ['\\Seen'] });
        await s.meta.mailboxes.storeFlags(inbox.id, { uids: [4, 5], op: 'add', flags: ['\\Deleted', '$Work'] });
        await s.meta.mailboxes.expunge(inbox.id, [1]);
        const index = await s.meta.mailboxes.listIndex(inbox.id);
        const full = await s.meta.mailboxes.listMessages(inbox.id);
        expect(index).toEqual({ uids: full.map((m) => m.uid), flags: full.map((m) => m.flags.join(' ')), modseqs: full.map((m) => m.modseq) });
        expect(index.uids).toEqual([2, 3, 4, 5]);
        expect(index.flags[0]).toBe('\\Seen');
        expect(index.flags[1]).toBe('');
        expect(await s.meta.mailboxes.folderStats(inbox.id)).toEqual({ messages: 4, unseen: 2, deleted: 2, size: 4 * blob.size });
        const empty = await s.meta.mailboxes.createFolder(inbox.accountId, 'Empty', null, 1);
        expect(await s.meta.mailboxes.folderStats(empty.id)).toEqual({ messages: 0, unseen: 0, deleted: 0, size: 0 });
        expect(await s.meta.mailboxes.listIndex(empty.id)).toEqual({ uids: [], flags: [], modseqs: [] });
      });
    });

    describe('header cache', () => {
      const entry = (blobId: string, tag: string) => ({
        blobId,
        search: `1.${tag}.["zoë ✓ ${tag}",null]`,
        detail: Buffer.concat([Buffer.from([0, 255, 13, 10]), Buffer.from(`detail ${tag}`)]),
      });
      const fakeId = (n: number) => n.toString(16).padStart(64, '0');

      it('stores entries per blob and reads them back with or without the detail', async () => {
        const a = fakeId(1);
        const b = fakeId(2);
        expect(await s.meta.mailboxes.getHeaderCache([a, b], true)).toEqual([]);
        await s.meta.mailboxes.putHeaderCache([entry(a, 'a'), entry(b, 'b')]);
        await s.meta.mailboxes.putHeaderCache([]);
        const full = await s.meta.mailboxes.getHeaderCache([b, a, a, fakeId(3)], true);
        expect(full.map((e) => ({ ...e, detail: Buffer.from(e.detail!) })).sort((x, y) => x.blobId.localeCompare(y.blobId))).toEqual([
          entry(a, 'a'),
          entry(b, 'b'),
        ]);
        const lean = await s.meta.mailboxes.getHeaderCache([a], false);
        expect(lean).toEqual([{ blobId: a, search: entry(a, 'a').search, detail: null }]);
        // A second put replaces the entry.
        await s.meta.mailboxes.putHeaderCache([entry(a, 'a2')]);
        const [again] = await s.meta.mailboxes.getHeaderCache([a], true);
        expect(again!.search).toBe(entry(a, 'a2').search);
        expect(Buffer.from(again!.detail!)).toEqual(entry(a, 'a2').detail);
        expect(await s.meta.mailboxes.getHeaderCache([], true)).toEqual([]);
      });

      it('keeps an entry with its search part only (detail NULL) until the detail is filled in', async () => {
        const user = await addUser();
        const f = await s.meta.mailboxes.createFolder(user.id, 'INBOX', null, 1);
        const blob = await s.blobs.put(Buffer.from('Subject: lazy\r\n\r\nx\r\n'));
        const unused = fakeId(11);
        await s.meta.mailboxes.append(f.id, { blobId: blob.id, size: blob.size, internalDate: 1 });
        const a = blob.id;
        await s.meta.mailboxes.putHeaderCache([{ blobId: a, search: entry(a, 's1').search, detail: null }, { blobId: unused, search: 'u', detail: null }]);
        // SEARCH sees the search part; a reader of the detail finds no entry yet (and reads the blob).
        expect(await s.meta.mailboxes.getHeaderCache([a], false)).toEqual([{ blobId: a, search: entry(a, 's1').search, detail: null }]);
        expect(await s.meta.mailboxes.getHeaderCache([a], true)).toEqual([]);
        expect((await s.meta.mailboxes.searchHeaderCache(f.id, 1, 1, 's1')).map((r) => r.search)).toEqual([entry(a, 's1').search]);
        expect(await s.meta.mailboxes.searchHeaderCache(f.id, 1, 1, 'absent')).toEqual([]);
        // Filled in: both parts upserted.
        await s.meta.mailboxes.putHeaderCache([entry(a, 's2')]);
        const [full] = await s.meta.mailboxes.getHeaderCache([a], true);
        expect({ ...full!, detail: Buffer.from(full!.detail!) }).toEqual(entry(a, 's2'));
        // A search part stored again on its own leaves the detail of the same blob in place.
        await s.meta.mailboxes.putHeaderCache([{ blobId: a, search: entry(a, 's3').search, detail: null }]);
        const [kept] = await s.meta.mailboxes.getHeaderCache([a], true);
        expect({ ...kept!, detail: Buffer.from(kept!.detail!) }).toEqual({ ...entry(a, 's2'), search: entry(a, 's3').search });
        // A blob marked damaged is left out of every read, search part alone or not.
        await s.meta.integrity.markDamaged(a, 'block 1: bad', 5);
        expect(await s.meta.mailboxes.getHeaderCache([a], false)).toEqual([]);
        expect((await s.meta.mailboxes.searchHeaderCache(f.id, 1, 1, null)).map((r) => r.search)).toEqual([null]);
        await s.meta.integrity.clearDamaged(a);
        // Pruning takes a search-only entry no message uses, and keeps the used one.
        expect(await s.meta.mailboxes.pruneHeaderCache(true)).toBe(1);
        expect(await s.meta.mailboxes.pruneHeaderCache()).toBe(1);
        expect((await s.meta.mailboxes.getHeaderCache([a, unused], false)).map((e) => e.blobId)).toEqual([a]);
      });

      it('stores an appended message\'s entry with it, keeping one the blob has already', async () => {
        const user = await addUser();
        const f = await s.meta.mailboxes.createFolder(user.id, 'INBOX', null, 1);
        const blob = await s.blobs.put(Buffer.from('Subject: with entry\r\n\r\nx\r\n'));
        const a = blob.id;
        await s.meta.mailboxes.append(f.id, { blobId: a, size: blob.size, internalDate: 1, headerCache: entry(a, 'e1') });
        const [stored] = await s.meta.mailboxes.getHeaderCache([a], true);
        expect({ ...stored!, detail: Buffer.from(stored!.detail!) }).toEqual(entry(a, 'e1'));
        expect((await s.meta.mailboxes.searchHeaderCache(f.id, 1, 1, 'e1')).map((r) => r.search)).toEqual([entry(a, 'e1').search]);
        // The same bytes appended again with another entry: the one stored stays, and the new message is searched by it.
        await s.meta.mailboxes.append(f.id, { blobId: a, size: blob.size, internalDate: 2, flags: ['$seen-by-test'], headerCache: entry(a, 'e2') });
        expect((await s.meta.mailboxes.getHeaderCache([a], false))[0]!.search).toBe(entry(a, 'e1').search);
        expect((await s.meta.mailboxes.searchHeaderCache(f.id, 1, 2, 'e1')).map((r) => r.uid)).toEqual([1, 2]);
        // An entry with its search part only gets its detail from a later append.
        const lean = await s.blobs.put(Buffer.from('Subject: lean\r\n\r\ny\r\n'));
        await s.meta.mailboxes.putHeaderCache([{ blobId: lean.id, search: entry(lean.id, 'l1').search, detail: null }]);
        await s.meta.mailboxes.append(f.id, { blobId: lean.id, size: lean.size, internalDate: 3, headerCache: entry(lean.id, 'l2') });
        const [filled] = await s.meta.mailboxes.getHeaderCache([lean.id], true);
        expect({ ...filled!, detail: Buffer.from(filled!.detail!) }).toEqual({ ...entry(lean.id, 'l2'), search: entry(lean.id, 'l1').search });
        // Without an entry nothing is stored for the blob.
        const bare = await s.blobs.put(Buffer.from('Subject: bare\r\n\r\nz\r\n'));
        await s.meta.mailboxes.append(f.id, { blobId: bare.id, size: bare.size, internalDate: 4, headerCache: null });
        expect(await s.meta.mailboxes.getHeaderCache([bare.id], false)).toEqual([]);
      });

      it('stores hundreds of entries in one call, the last of a repeated blob id winning', async () => {
        const ids = Array.from({ length: 250 }, (_, i) => fakeId(20_000 + i));
        const entries = ids.map((id, i) => ({ blobId: id, search: `s${i}`, detail: i % 2 === 0 ? null : Buffer.from(`d${i}`) }));
        await s.meta.mailboxes.putHeaderCache([...entries, { blobId: ids[7]!, search: 'last', detail: null }, { blobId: ids[201]!, search: 'final', detail: Buffer.from('df') }]);
        const lean = new Map((await s.meta.mailboxes.getHeaderCache(ids, false)).map((e) => [e.blobId, e.search]));
        expect(lean.size).toBe(250);
        expect(ids.map((id) => lean.get(id))).toEqual(ids.map((_, i) => (i === 7 ? 'last' : i === 201 ? 'final' : `s${i}`)));
        const full = await s.meta.mailboxes.getHeaderCache(ids, true);
        expect(full.length).toBe(125);
        expect(Buffer.from(full.find((e) => e.blobId === ids[201])!.detail!).toString()).toBe('df');
      });

      it('answers for thousands of ids in one call', async () => {
        const ids = Array.from({ length: 4500 }, (_, i) => fakeId(i + 10));
        const stored = [ids[0]!, ids[2222]!, ids[4499]!];
        await s.meta.mailboxes.putHeaderCache(stored.map((id, i) => entry(id, `n${i}`)));
        const got = await s.meta.mailboxes.getHeaderCache(ids, false);
        expect(got.map((e) => e.blobId).sort()).toEqual([...stored].sort());
      });

      it('never answers for a blob marked damaged', async () => {
        const a = fakeId(7);
        const b = fakeId(8);
        await s.meta.mailboxes.putHeaderCache([entry(a, 'a'), entry(b, 'b')]);
        await s.meta.integrity.markDamaged(a, 'block 1: bad', 5);
        expect((await s.meta.mailboxes.getHeaderCache([a, b], true)).map((e) => e.blobId)).toEqual([b]);
        expect((await s.meta.mailboxes.getHeaderCache([a, b], false)).map((e) => e.blobId)).toEqual([b]);
        await s.meta.integrity.clearDamaged(a);
        expect((await s.meta.mailboxes.getHeaderCache([a], false)).map((e) => e.blobId)).toEqual([a]);
      });

      it('lists the messages of a folder with their search text for SEARCH, filtered on a required text', async () => {
        const user = await addUser();
        const f = await s.meta.mailboxes.createFolder(user.id, 'INBOX', null, 1);
        const other = await s.meta.mailboxes.createFolder(user.id, 'Other', null, 1);
        const blobs = [];
        for (const name of ['one', 'two', 'three', 'four']) blobs.push(await s.blobs.put(Buffer.from(`Subject: ${name}\r\n\r\nx\r\n`)));
        const [one, two, three, four] = blobs as [(typeof blobs)[0], (typeof blobs)[0], (typeof blobs)[0], (typeof blobs)[0]];
        for (const [i, b] of [one, two, three, four, one].entries()) await s.meta.mailboxes.append(f.id, { blobId: b.id, size: b.size + i, internalDate: 100 + i });
        await s.meta.mailboxes.append(other.id, { blobId: two.id, size: two.size, internalDate: 1 });
        await s.meta.mailboxes.expunge(f.id, [2]);
        // one and three have entries (one is used twice), four's blob is marked damaged, two has none.
        await s.meta.mailboxes.putHeaderCache([
          { blobId: one.id, search: '1.x.["needle in one"]', detail: Buffer.from('d1') },
          { blobId: three.id, search: '1.x.["Needle? no: three"]', detail: Buffer.from('d3') },
          { blobId: four.id, search: '1.x.["needle in four"]', detail: Buffer.from('d4') },
        ]);
        await s.meta.integrity.markDamaged(four.id, 'bad', 1);
        const all = await s.meta.mailboxes.searchHeaderCache(f.id, 1, 5, null);
        expect(all).toEqual([
          { uid: 1, blobId: one.id, size: one.size, internalDate: 100, search: '1.x.["needle in one"]' },
          { uid: 3, blobId: three.id, size: three.size + 2, internalDate: 102, search: '1.x.["Needle? no: three"]' },
          { uid: 4, blobId: four.id, size: four.size + 3, internalDate: 103, search: null },
          { uid: 5, blobId: one.id, size: one.size + 4, internalDate: 104, search: '1.x.["needle in one"]' },
        ]);
        // The filter is an exact substring test: "Needle" does not match, a message without usable text always stays.
        expect((await s.meta.mailboxes.searchHeaderCache(f.id, 1, 5, 'needle')).map((r) => r.uid)).toEqual([1, 4, 5]);
        expect((await s.meta.mailboxes.searchHeaderCache(f.id, 3, 4, 'needle')).map((r) => r.uid)).toEqual([4]);
        expect((await s.meta.mailboxes.searchHeaderCache(f.id, 2, 3, null)).map((r) => r.uid)).toEqual([3]);
        expect(await s.meta.mailboxes.searchHeaderCache(other.id, 1, 9, 'needle')).toEqual([
          { uid: 1, blobId: two.id, size: two.size, internalDate: 1, search: null },
        ]);
        expect(await s.meta.mailboxes.searchHeaderCache(f.id, 6, 9, null)).toEqual([]);
      });

      it('prunes the entries of blobs no message references', async () => {
        const user = await addUser();
        const f = await s.meta.mailboxes.createFolder(user.id, 'INBOX', null, 1);
        const kept = await s.blobs.put(Buffer.from('Subject: kept\r\n\r\nx\r\n'));
        const gone = await s.blobs.put(Buffer.from('Subject: gone\r\n\r\ny\r\n'));
        await s.meta.mailboxes.append(f.id, { blobId: kept.id, size: kept.size, internalDate: 1 });
        const m = await s.meta.mailboxes.append(f.id, { blobId: gone.id, size: gone.size, internalDate: 2 });
        await s.meta.mailboxes.putHeaderCache([entry(kept.id, 'k'), entry(gone.id, 'g'), entry(fakeId(9), 'never')]);
        expect(await s.meta.mailboxes.pruneHeaderCache()).toBe(1);
        await s.meta.mailboxes.expunge(f.id, [m.uid]);
        expect(await s.meta.mailboxes.pruneHeaderCache()).toBe(1);
        expect((await s.meta.mailboxes.getHeaderCache([kept.id, gone.id, fakeId(9)], true)).map((e) => e.blobId)).toEqual([kept.id]);
        expect(await s.meta.mailboxes.pruneHeaderCache()).toBe(0);
      });
    });

    describe('queue', () => {
      const enqueue = async (rcpts: { address: string; transport: 'local' | 'remote'; accountId?: number }[]) => {
        const blob = await s.blobs.put(Buffer.from(`Subject: q ${newQueueId()}\r\n\r\nbody\r\n`));
        const id = newQueueId();
        await s.meta.queue.enqueue(
          { id, blobId: blob.id, size: blob.size, sender: 's@x.test', receivedAt: 1000, source: 'mx', clientAddress: '127.0.0.1', authUser: null, meta: { tls: true } },
          rcpts,
        );
        return id;
      };

      it('enqueues durably and returns the message with its recipients', async () => {
        const id = await enqueue([{ address: 'r@remote.test', transport: 'remote' }]);
        expect(await s.meta.queue.getMessage(id)).toMatchObject({ id, sender: 's@x.test', meta: { tls: true } });
        expect((await s.meta.queue.listRecipients(id)).map((r) => r.state)).toEqual(['queued']);
      });

      it('group-commits concurrent enqueues, all visible', async () => {
        const ids = await Promise.all(Array.from({ length: 25 }, () => enqueue([{ address: 'r@remote.test', transport: 'remote' }])));
        for (const id of ids) expect(await s.meta.queue.getMessage(id)).not.toBeNull();
        expect((await s.meta.queue.listPending()).length).toBe(25);
      });

      it('summarises what is pending: messages, recipients and the oldest', async () => {
        const pending = async () => {
          const { messages, recipients, oldestReceivedAt } = await s.meta.queue.stats();
          return { messages, recipients, oldestReceivedAt };
        };
        expect(await pending()).toEqual({ messages: 0, recipients: 0, oldestReceivedAt: null });
        await enqueue([
          { address: 'a@remote.test', transport: 'remote' },
          { address: 'b@remote.test', transport: 'remote' },
        ]);
        await enqueue([{ address: 'c@remote.test', transport: 'remote' }]);
        const [l] = await s.meta.queue.lease({ transport: 'remote', now: 2000, leaseMs: 1000, limit: 1 });
        expect(await s.meta.queue.complete(l!, 2100)).toBe(true);
        expect(await pending()).toEqual({ messages: 2, recipients: 2, oldestReceivedAt: 1000 });
      });

      it('leases exclusively, by transport, and re-leases after expiry', async () => {
        await enqueue([{ address: 'r@remote.test', transport: 'remote' }]);
        expect(await s.meta.queue.lease({ transport: 'local', now: 2000, leaseMs: 1000, limit: 10 })).toHaveLength(0);
        const l1 = await s.meta.queue.lease({ transport: 'remote', now: 2000, leaseMs: 1000, limit: 10 });
        expect(l1).toHaveLength(1);
        expect(await s.meta.queue.lease({ transport: 'remote', now: 2500, leaseMs: 1000, limit: 10 })).toHaveLength(0);
        const l2 = await s.meta.queue.lease({ transport: 'remote', now: 3001, leaseMs: 1000, limit: 10 });
        expect(l2).toHaveLength(1);
        expect(l2[0]!.recipient.attempts).toBe(2);
        // The stale lease can no longer complete.
        expect(await s.meta.queue.complete(l1[0]!, 3002)).toBe(false);
        expect(await s.meta.queue.complete(l2[0]!, 3002)).toBe(true);
        expect(await s.meta.queue.purgeFinished()).toBe(1);
      });

      it('leases due recipients and expired leases together, oldest due first, up to the limit', async () => {
        const a = await enqueue([{ address: 'a@remote.test', transport: 'remote' }]);
        const b = await enqueue([{ address: 'b@remote.test', transport: 'remote' }]);
        const c = await enqueue([{ address: 'c@remote.test', transport: 'remote' }]);
        // a is leased and its lease runs out; b waits until 5000; c stays due from 1000.
        const [la, lb] = await s.meta.queue.lease({ transport: 'remote', now: 2000, leaseMs: 1000, limit: 2 });
        expect([la!.message.id, lb!.message.id].sort()).toEqual([a, b].sort());
        const bLease = la!.message.id === b ? la! : lb!;
        expect(await s.meta.queue.defer(bLease, 5000, 'try later')).toBe(true);
        const at4000 = await s.meta.queue.lease({ transport: 'remote', now: 4000, leaseMs: 10_000, limit: 10 });
        expect(at4000.map((l) => l.message.id).sort()).toEqual([a, c].sort());
        expect(await s.meta.queue.lease({ transport: 'remote', now: 4500, leaseMs: 1000, limit: 10 })).toHaveLength(0);
        const at5000 = await s.meta.queue.lease({ transport: 'remote', now: 5000, leaseMs: 1000, limit: 1 });
        expect(at5000.map((l) => l.message.id)).toEqual([b]);
      });

      it('renews a lease still held, and only that', async () => {
        await enqueue([{ address: 'r@remote.test', transport: 'remote' }]);
        const [l1] = (await s.meta.queue.lease({ transport: 'remote', now: 2000, leaseMs: 1000, limit: 10 })) as [Lease];
        expect(await s.meta.queue.renew(l1, 5000)).toBe(true);
        expect(await s.meta.queue.lease({ transport: 'remote', now: 4999, leaseMs: 1000, limit: 10 })).toHaveLength(0);
        const [l2] = (await s.meta.queue.lease({ transport: 'remote', now: 5000, leaseMs: 1000, limit: 10 })) as [Lease];
        // The lease taken over is not the old one's to extend.
        expect(await s.meta.queue.renew(l1, 9000)).toBe(false);
        expect(await s.meta.queue.complete(l2, 5001)).toBe(true);
        expect(await s.meta.queue.renew(l2, 9000)).toBe(false);
      });

      it('tells the age of the oldest message still waiting, not of held or finished mail', async () => {
        expect(await s.meta.queue.oldestAge(5000)).toBeNull();
        const id = await enqueue([{ address: 'r@remote.test', transport: 'remote' }]); // received at 1000
        expect(await s.meta.queue.oldestAge(5000)).toBe(4000);
        expect(await s.meta.queue.hold(id)).toBe(1);
        expect(await s.meta.queue.oldestAge(5000)).toBeNull();
        await s.meta.queue.release(id, 2000);
        const [l] = (await s.meta.queue.lease({ transport: 'remote', now: 2000, leaseMs: 1000, limit: 10 })) as [Lease];
        expect(await s.meta.queue.oldestAge(6000)).toBe(5000); // in a delivery attempt it still waits
        await s.meta.queue.complete(l, 2001);
        expect(await s.meta.queue.oldestAge(6000)).toBeNull();
      });

      it('defers until a time and fails permanently', async () => {
        const id = await enqueue([
          { address: 'a@remote.test', transport: 'remote' },
          { address: 'b@remote.test', transport: 'remote' },
        ]);
        const [a, b] = (await s.meta.queue.lease({ transport: 'remote', now: 2000, leaseMs: 1000, limit: 10 })) as [Lease, Lease];
        expect(await s.meta.queue.defer(a, 10_000, '451 try later')).toBe(true);
        expect(await s.meta.queue.fail(b, 2001, '550 no')).toBe(true);
        expect(await s.meta.queue.lease({ transport: 'remote', now: 9999, leaseMs: 1000, limit: 10 })).toHaveLength(0);
        const again = await s.meta.queue.lease({ transport: 'remote', now: 10_000, leaseMs: 1000, limit: 10 });
        expect(again.map((l) => l.recipient.address)).toEqual(['a@remote.test']);
        const rs = await s.meta.queue.listRecipients(id);
        expect(rs.map((r) => [r.address, r.state, r.lastError])).toEqual([
          ['a@remote.test', 'leased', '451 try later'],
          ['b@remote.test', 'failed', '550 no'],
        ]);
        expect(await s.meta.queue.purgeFinished()).toBe(0);
      });

      it('delivers locally exactly once: append and completion are one step', async () => {
        const a = await addUser();
        const f = await s.meta.mailboxes.createFolder(a.id, 'INBOX', null, 1);
        await enqueue([{ address: a.address, transport: 'local', accountId: a.id }]);
        const [l] = (await s.meta.queue.lease({ transport: 'local', now: 2000, leaseMs: 1000, limit: 10 })) as [Lease];
        expect(l.recipient.accountId).toBe(a.id);
        expect(await s.meta.queue.deliverLocal(l, f.id, 2001)).toEqual({ uid: 1 });
        expect(await s.meta.queue.deliverLocal(l, f.id, 2002)).toBeNull();
        expect(await s.meta.mailboxes.listMessages(f.id)).toHaveLength(1);
        expect(await s.meta.queue.listPending()).toHaveLength(0);
      });

      it('delivers several locally at once, each on its own: a refused one and a lost lease change nothing else', async () => {
        const a = await addUser();
        const f = await s.meta.mailboxes.createFolder(a.id, 'INBOX', null, 1);
        const id = await enqueue([0, 1, 2, 3].map((i) => ({ address: `${i}.${a.address}`, transport: 'local' as const, accountId: a.id })));
        const [l0, l1, l2, l3] = (await s.meta.queue.lease({ transport: 'local', now: 2000, leaseMs: 1000, limit: 10 })) as [Lease, Lease, Lease, Lease];
        const lost = { ...l2, token: 'not-the-token' };
        const out = await s.meta.queue.deliverLocalMany([
          { lease: l0, folderId: f.id, now: 2001 },
          { lease: l1, folderId: 999_999, now: 2001 },
          { lease: lost, folderId: f.id, now: 2001 },
          { lease: l3, folderId: f.id, now: 2001 },
        ]);
        expect(out[0]).toEqual({ uid: 1 });
        expect(out[1]).toHaveProperty('error');
        expect(out[2]).toBeNull();
        expect(out[3]).toEqual({ uid: 2 });
        expect((await s.meta.mailboxes.listMessages(f.id)).map((m) => m.uid)).toEqual([1, 2]);
        expect((await s.meta.queue.listRecipients(id)).map((r) => r.state)).toEqual(['delivered', 'leased', 'leased', 'delivered']);
        expect(await s.meta.queue.deliverLocalMany([])).toEqual([]);
      });

      it('stores a local delivery\'s header cache entry in the delivery\'s own step', async () => {
        const a = await addUser();
        const f = await s.meta.mailboxes.createFolder(a.id, 'INBOX', null, 1);
        await enqueue([0, 1].map((i) => ({ address: `${i}.${a.address}`, transport: 'local' as const, accountId: a.id })));
        const [l0, l1] = (await s.meta.queue.lease({ transport: 'local', now: 2000, leaseMs: 1000, limit: 10 })) as [Lease, Lease];
        const blobId = l0.message.blobId;
        const search = `1.delivered.["entry",null]`;
        const lost = { ...l1, token: 'not-the-token' };
        const out = await s.meta.queue.deliverLocalMany([
          { lease: l0, folderId: f.id, now: 2001, headerCache: { blobId, search, detail: Buffer.from('detail') } },
          { lease: lost, folderId: f.id, now: 2001, headerCache: { blobId: 'f'.repeat(64), search: 'never', detail: null } },
        ]);
        expect(out).toEqual([{ uid: 1 }, null]);
        const [e] = await s.meta.mailboxes.getHeaderCache([blobId], true);
        expect({ ...e!, detail: Buffer.from(e!.detail!) }).toEqual({ blobId, search, detail: Buffer.from('detail') });
        expect((await s.meta.mailboxes.searchHeaderCache(f.id, 1, 1, 'entry')).map((r) => r.uid)).toEqual([1]);
        // A lost lease stores nothing, its entry included.
        expect(await s.meta.mailboxes.getHeaderCache(['f'.repeat(64)], false)).toEqual([]);
      });

      it('delivers locally another blob in place of the queue\'s, in the same one step', async () => {
        const a = await addUser();
        const f = await s.meta.mailboxes.createFolder(a.id, 'INBOX', null, 1);
        const id = await enqueue([{ address: a.address, transport: 'local', accountId: a.id }]);
        const sealed = await s.blobs.put(Buffer.from('Subject: sealed\r\n\r\nciphertext\r\n'));
        const [l] = (await s.meta.queue.lease({ transport: 'local', now: 2000, leaseMs: 1000, limit: 10 })) as [Lease];
        expect(await s.meta.queue.deliverLocal(l, f.id, 2001, { blobId: sealed.id, size: sealed.size })).toEqual({ uid: 1 });
        expect(await s.meta.queue.deliverLocal(l, f.id, 2002, { blobId: sealed.id, size: sealed.size })).toBeNull();
        const msgs = await s.meta.mailboxes.listMessages(f.id);
        expect(msgs.map((m) => [m.blobId, m.size])).toEqual([[sealed.id, sealed.size]]);
        expect((await s.meta.queue.listRecipients(id)).map((r) => r.state)).toEqual(['delivered']);
      });

      it('records when a recipient was leased and the timing of its last attempt', async () => {
        const id = await enqueue([{ address: 'a@remote.test', transport: 'remote' }]);
        expect((await s.meta.queue.listRecipients(id))[0]).toMatchObject({ leasedAt: null, timing: null });
        const [l] = (await s.meta.queue.lease({ transport: 'remote', now: 2000, leaseMs: 1000, limit: 10 })) as [Lease];
        expect(l.recipient.leasedAt).toBe(2000);
        const timing = { waitMs: 5, connMs: 40, xmitMs: 12, relay: 'mx.remote.test[192.0.2.1]:25', tls: 'TLSv1.3 verified=pkix' };
        expect(await s.meta.queue.defer(l, 5000, '451 later', timing)).toBe(true);
        expect((await s.meta.queue.listRecipients(id))[0]).toMatchObject({ state: 'deferred', leasedAt: 2000, timing });
        const [l2] = (await s.meta.queue.lease({ transport: 'remote', now: 5000, leaseMs: 1000, limit: 10 })) as [Lease];
        expect(await s.meta.queue.complete(l2, 5100, '250 ok', { ...timing, connMs: 0 })).toBe(true);
        expect((await s.meta.queue.listRecipients(id))[0]).toMatchObject({ state: 'delivered', deliveredAt: 5100, leasedAt: 5000, timing: { connMs: 0 } });
      });

      it('holds, releases, retries now and deletes a message', async () => {
        const id = await enqueue([
          { address: 'a@remote.test', transport: 'remote' },
          { address: 'b@remote.test', transport: 'remote' },
        ]);
        const other = await enqueue([{ address: 'c@remote.test', transport: 'remote' }]);
        expect(await s.meta.queue.hold(id)).toBe(2);
        const leased = await s.meta.queue.lease({ transport: 'remote', now: 2000, leaseMs: 1000, limit: 10 });
        expect(leased.map((l) => l.recipient.address)).toEqual(['c@remote.test']);
        expect((await s.meta.queue.listRecipients(id)).map((r) => r.state)).toEqual(['held', 'held']);
        expect(await s.meta.queue.release(id, 3000)).toBe(2);
        const [a] = (await s.meta.queue.lease({ transport: 'remote', now: 3000, leaseMs: 1000, limit: 1 })) as [Lease];
        await s.meta.queue.defer(a, 999_999, '451 later');
        expect(await s.meta.queue.retryNow(id, 3500)).toBe(2);
        expect((await s.meta.queue.lease({ transport: 'remote', now: 3500, leaseMs: 1000, limit: 10 })).length).toBe(2);
        expect(await s.meta.queue.deleteMessage(id)).toBe(true);
        expect(await s.meta.queue.deleteMessage(id)).toBe(false);
        expect(await s.meta.queue.getMessage(id)).toBeNull();
        expect(await s.meta.queue.listRecipients(id)).toEqual([]);
        expect(await s.meta.queue.getMessage(other)).not.toBeNull();
      });

      it('counts what waits per state and finds the oldest waiting message', async () => {
        expect(await s.meta.queue.stats()).toEqual({ messages: 0, recipients: 0, states: [], oldestReceivedAt: null });
        const blob = await s.blobs.put(Buffer.from('Subject: stats\r\n\r\nbody\r\n'));
        const put = async (receivedAt: number, addresses: string[]) => {
          const id = newQueueId();
          const msg = { id, blobId: blob.id, size: blob.size, sender: 's@x.test', receivedAt, source: 'mx' as const, clientAddress: '127.0.0.1', authUser: null, meta: {} };
          await s.meta.queue.enqueue(msg, addresses.map((address) => ({ address, transport: 'remote' as const })));
          return id;
        };
        const old = await put(1000, ['a@remote.test', 'b@remote.test']);
        const held = await put(2000, ['c@remote.test']);
        await put(3000, ['d@remote.test']);
        expect(await s.meta.queue.hold(held)).toBe(1);
        const [a] = (await s.meta.queue.lease({ transport: 'remote', now: 5000, leaseMs: 1000, limit: 1 })) as [Lease];
        expect(a.message.id).toBe(old);
        expect(await s.meta.queue.complete(a, 5001)).toBe(true);
        expect(await s.meta.queue.stats()).toEqual({
          messages: 3,
          recipients: 3,
          states: [
            { state: 'held', messages: 1, recipients: 1 },
            { state: 'queued', messages: 2, recipients: 2 },
          ],
          oldestReceivedAt: 1000,
        });
        // Once the oldest message's last recipient is done, the next one is the oldest.
        const [b] = (await s.meta.queue.lease({ transport: 'remote', now: 6000, leaseMs: 1000, limit: 1 })) as [Lease];
        expect(b.message.id).toBe(old);
        expect(await s.meta.queue.fail(b, 6001, '550 no')).toBe(true);
        expect((await s.meta.queue.stats()).oldestReceivedAt).toBe(2000);
        expect((await s.meta.queue.stats()).states.find((x) => x.state === 'queued')).toEqual({ state: 'queued', messages: 1, recipients: 1 });
      });
    });

    describe('policy: after-queue scan and quarantine', () => {
      const verdict = (stage: string, action: Verdict['action']): Verdict => ({ stage, action, reasons: [{ rule: 'r' }], headers: [], events: [] });
      const enqueue = async (route: NewQueueMessage['route'], rcpts: NewRecipient[] = [{ address: 'r@remote.test', transport: 'remote' }]) => {
        const blob = await s.blobs.put(Buffer.from(`Subject: p ${newQueueId()}\r\n\r\nbody\r\n`));
        const id = newQueueId();
        await s.meta.queue.enqueue(
          { id, blobId: blob.id, size: blob.size, sender: 's@x.test', receivedAt: 1000, source: 'mx', clientAddress: '127.0.0.1', authUser: null, meta: {}, verdicts: [verdict('auth', 'pass')], route },
          rcpts,
        );
        return id;
      };
      const leaseRemote = (now: number) => s.meta.queue.lease({ transport: 'remote', now, leaseMs: 1000, limit: 10 });

      it('stores an entry with its scan already leased to the caller when asked, for nobody else until it expires', async () => {
        const blob = await s.blobs.put(Buffer.from(`Subject: p ${newQueueId()}\r\n\r\nbody\r\n`));
        const id = newQueueId();
        const lease = { token: 'held-by-the-spool', until: 3000 };
        await s.meta.queue.enqueue(
          { id, blobId: blob.id, size: blob.size, sender: 's@x.test', receivedAt: 1000, source: 'mx', clientAddress: '127.0.0.1', authUser: null, meta: { helo: 'x' }, verdicts: [], route: 'scan', scanLease: lease },
          [{ address: 'r@remote.test', transport: 'remote' }],
        );
        // Another entry enqueued with a lease but not for a scan: the lease is not stored.
        const plain = newQueueId();
        await s.meta.queue.enqueue(
          { id: plain, blobId: blob.id, size: blob.size, sender: 's@x.test', receivedAt: 1000, source: 'mx', clientAddress: '127.0.0.1', authUser: null, meta: {}, verdicts: [], route: 'deliver', scanLease: lease },
          [{ address: 'q@remote.test', transport: 'remote' }],
        );
        expect((await leaseRemote(1000)).map((l) => l.message.id)).toEqual([plain]);
        expect(await s.meta.queue.leaseScan({ now: 2999, leaseMs: 1000, limit: 10 })).toEqual([]);
        // The caller's lease finishes the scan as one the store handed out would.
        const message = { id, blobId: blob.id, size: blob.size, sender: 's@x.test', receivedAt: 1000, source: 'mx' as const, clientAddress: '127.0.0.1', authUser: null, meta: { helo: 'x' }, verdicts: [] };
        expect(await s.meta.queue.finishScan({ ...lease, message }, { verdicts: [verdict('av', 'pass')], next: 'deliver', now: 2000 })).toBe(true);
        expect((await s.meta.queue.listRecipients(id)).map((r) => r.state)).toEqual(['queued']);
        // Expired before it was finished: another scanner takes it, and the first lease is lost.
        const late = newQueueId();
        await s.meta.queue.enqueue(
          { id: late, blobId: blob.id, size: blob.size, sender: 's@x.test', receivedAt: 1000, source: 'mx', clientAddress: '127.0.0.1', authUser: null, meta: {}, verdicts: [], route: 'scan', scanLease: { token: 'late', until: 2500 } },
          [{ address: 'r@remote.test', transport: 'remote' }],
        );
        const taken = (await s.meta.queue.leaseScan({ now: 2500, leaseMs: 1000, limit: 10 })) as ScanLease[];
        expect(taken.map((x) => x.message.id)).toEqual([late]);
        expect(await s.meta.queue.finishScan({ token: 'late', until: 2500, message: { ...message, id: late, meta: {} } }, { verdicts: [], next: 'deliver', now: 2600 })).toBe(false);
      });

      it('finishes several scans at once, each on its own: a lost lease changes nothing else', async () => {
        const ids = [await enqueue('scan'), await enqueue('scan'), await enqueue('scan')];
        const scans = (await s.meta.queue.leaseScan({ now: 2000, leaseMs: 1000, limit: 10 })) as ScanLease[];
        expect(scans).toHaveLength(3);
        const lost = { ...scans[1]!, token: 'not-the-token' };
        const out = await s.meta.queue.finishScanMany([
          { lease: scans[0]!, outcome: { verdicts: [verdict('av', 'pass')], next: 'deliver', now: 2100 } },
          { lease: lost, outcome: { verdicts: [], next: 'deliver', now: 2100 } },
          { lease: scans[2]!, outcome: { verdicts: [], next: { quarantine: { stage: 'dlp', reason: 'cards' } }, now: 2100 } },
        ]);
        expect(out).toEqual([true, false, true]);
        const states = await Promise.all(ids.map(async (id) => (await s.meta.queue.listRecipients(id)).map((r) => r.state)));
        const byId = new Map(scans.map((x, i) => [x.message.id, i]));
        expect(states.map((x) => x[0])).toEqual(ids.map((id) => ['queued', 'scanning', 'held'][byId.get(id)!]));
        expect(await s.meta.queue.finishScanMany([])).toEqual([]);
      });

      it('hands the recipients of one transport over leased with the scan result, and lets the others go on queued', async () => {
        const rcpts: NewRecipient[] = [
          { address: 'a@local.test', transport: 'local' },
          { address: 'r@remote.test', transport: 'remote' },
          { address: 'b@local.test', transport: 'local' },
        ];
        const ids = [await enqueue('scan', rcpts), await enqueue('scan', rcpts), await enqueue('scan', rcpts)];
        const scans = (await s.meta.queue.leaseScan({ now: 2000, leaseMs: 1000, limit: 10 })) as ScanLease[];
        const byId = new Map(scans.map((x) => [x.message.id, x]));
        const [deliver, lost, held] = ids.map((id) => byId.get(id)!);
        const newer = await s.blobs.put(Buffer.from('X-Scanned: yes\r\nSubject: p\r\n\r\nbody\r\n'));
        const out = await s.meta.queue.finishScanMany(
          [
            { lease: deliver!, outcome: { verdicts: [verdict('av', 'pass')], next: 'deliver', now: 2100, blob: newer, meta: { dlp: 'internal' } } },
            { lease: { ...lost!, token: 'not-the-token' }, outcome: { verdicts: [], next: 'deliver', now: 2100 } },
            { lease: held!, outcome: { verdicts: [], next: { quarantine: { stage: 'dlp', reason: 'cards' } }, now: 2100 } },
          ],
          { transport: 'local', leaseMs: 5000 },
        );
        expect(out[1]).toBe(false);
        expect(out[2]).toBe(true);
        const leases = (out[0] as { leases: Lease[] }).leases;
        // Leased as `lease` leases: in recipient order, with the stored result's message.
        expect(leases.map((l) => l.recipient.address)).toEqual(['a@local.test', 'b@local.test']);
        expect(new Set(leases.map((l) => l.token)).size).toBe(2);
        for (const l of leases) {
          expect(l.until).toBe(7100);
          expect(l.recipient).toMatchObject({ state: 'leased', attempts: 1, leasedAt: 2100, nextAttemptAt: 2100, queueId: ids[0] });
          expect(l.message.verdicts.map((v) => v.stage)).toEqual(['auth', 'av']);
          expect(l.message).toMatchObject({ id: ids[0], blobId: newer.id, size: newer.size, meta: { dlp: 'internal' } });
        }
        const states = async (id: string) => (await s.meta.queue.listRecipients(id)).map((r) => `${r.address}:${r.state}`);
        expect(await states(ids[0]!)).toEqual(['a@local.test:leased', 'r@remote.test:queued', 'b@local.test:leased']);
        expect(await states(ids[1]!)).toEqual(['a@local.test:scanning', 'r@remote.test:scanning', 'b@local.test:scanning']);
        expect(await states(ids[2]!)).toEqual(['a@local.test:held', 'r@remote.test:held', 'b@local.test:held']);
        // Held: nobody else leases them until they expire; the remote one is due at once.
        expect(await s.meta.queue.lease({ transport: 'local', now: 7099, leaseMs: 1000, limit: 10 })).toHaveLength(0);
        expect((await leaseRemote(2100)).map((l) => l.message.id)).toEqual([ids[0]]);
        // The lease handed over is the one the store checks...
        expect(await s.meta.queue.complete(leases[0]!, 2200)).toBe(true);
        // ...and once one expires, it is leased again (a taker that died loses nothing).
        const again = await s.meta.queue.lease({ transport: 'local', now: 7100, leaseMs: 1000, limit: 10 });
        expect(again.map((l) => [l.recipient.address, l.recipient.attempts])).toEqual([['b@local.test', 2]]);
        expect(await s.meta.queue.complete(leases[1]!, 7101)).toBe(false);
      });

      it('keeps scanning mail from delivery until its scan finishes, then appends the verdicts', async () => {
        const id = await enqueue('scan');
        expect((await s.meta.queue.listRecipients(id)).map((r) => r.state)).toEqual(['scanning']);
        expect(await leaseRemote(2000)).toHaveLength(0);
        const [scan] = (await s.meta.queue.leaseScan({ now: 2000, leaseMs: 1000, limit: 10 })) as [ScanLease];
        expect(scan.message.verdicts.map((v) => v.stage)).toEqual(['auth']);
        // Taken: a second scanner does not get it until the lease runs out.
        expect(await s.meta.queue.leaseScan({ now: 2500, leaseMs: 1000, limit: 10 })).toHaveLength(0);
        const newer = await s.blobs.put(Buffer.from('X-Scanned: yes\r\nSubject: p\r\n\r\nbody\r\n'));
        expect(await s.meta.queue.finishScan(scan, { verdicts: [verdict('av', 'pass')], next: 'deliver', now: 2600, blob: newer })).toBe(true);
        expect(await s.meta.queue.finishScan(scan, { verdicts: [], next: 'deliver', now: 2600 })).toBe(false);
        const [l] = (await leaseRemote(2600)) as [Lease];
        expect(l.message.verdicts.map((v) => v.stage)).toEqual(['auth', 'av']);
        expect(l.message.blobId).toBe(newer.id);
        expect(l.message.size).toBe(newer.size);
      });

      it('merges a scan outcome\'s meta into the stored meta with the verdicts (a TLS floor is leased with the message)', async () => {
        const blob = await s.blobs.put(Buffer.from(`Subject: m ${newQueueId()}\r\n\r\nbody\r\n`));
        const id = newQueueId();
        const meta = { listener: 'submission', rcptTo: ['r@remote.test'], tls: null, requireTls: false };
        await s.meta.queue.enqueue(
          { id, blobId: blob.id, size: blob.size, sender: 's@x.test', receivedAt: 1000, source: 'submission', clientAddress: '127.0.0.1', authUser: 's@x.test', meta, route: 'scan' },
          [{ address: 'r@remote.test', transport: 'remote' }],
        );
        const [scan] = (await s.meta.queue.leaseScan({ now: 2000, leaseMs: 1000, limit: 10 })) as [ScanLease];
        // A lost lease stores nothing, meta included.
        const [again] = (await s.meta.queue.leaseScan({ now: 3001, leaseMs: 1000, limit: 10 })) as [ScanLease];
        expect(await s.meta.queue.finishScan(scan, { verdicts: [verdict('dlp', 'pass')], next: 'deliver', now: 3002, meta: { tlsFloor: 'encrypt' } })).toBe(false);
        expect((await s.meta.queue.getMessage(id))?.meta).toEqual(meta);
        expect(await s.meta.queue.finishScan(again, { verdicts: [verdict('dlp', 'pass')], next: 'deliver', now: 3002, meta: { tlsFloor: 'verify', dlp: 'confidential' } })).toBe(true);
        const [l] = (await leaseRemote(3002)) as [Lease];
        expect(l.message.meta).toEqual({ ...meta, tlsFloor: 'verify', dlp: 'confidential' });
        expect(l.message.verdicts.map((v) => v.stage)).toEqual(['dlp']);
      });

      it('leases scans oldest queue id first, each entry once however many recipients wait, skipping those leased', async () => {
        const first = await enqueue('scan', [
          { address: 'a@remote.test', transport: 'remote' },
          { address: 'b@remote.test', transport: 'remote' },
        ]);
        await new Promise((r) => setTimeout(r, 2)); // queue ids start with their millisecond
        const second = await enqueue('scan');
        await enqueue('deliver');
        const third = await enqueue('scan');
        const [one] = (await s.meta.queue.leaseScan({ now: 2000, leaseMs: 1000, limit: 1 })) as [ScanLease];
        expect(one.message.id).toBe(first);
        const rest = await s.meta.queue.leaseScan({ now: 2000, leaseMs: 1000, limit: 10 });
        expect(rest.map((l) => l.message.id).sort()).toEqual([second, third].sort());
        expect(await s.meta.queue.leaseScan({ now: 2500, leaseMs: 1000, limit: 10 })).toHaveLength(0);
      });

      it('keeps the stored meta when a scan outcome has none', async () => {
        const id = await enqueue('scan');
        const [scan] = (await s.meta.queue.leaseScan({ now: 2000, leaseMs: 1000, limit: 10 })) as [ScanLease];
        expect(await s.meta.queue.finishScan(scan, { verdicts: [], next: { quarantine: { stage: 'dlp', reason: 'cards' } }, now: 2100 })).toBe(true);
        expect((await s.meta.queue.getMessage(id))?.meta).toEqual({});
      });

      it('rescans after a crash mid-scan (the scan lease expires) and defers a failed scan', async () => {
        await enqueue('scan');
        const [first] = (await s.meta.queue.leaseScan({ now: 2000, leaseMs: 1000, limit: 10 })) as [ScanLease];
        const [again] = (await s.meta.queue.leaseScan({ now: 3001, leaseMs: 1000, limit: 10 })) as [ScanLease];
        expect(again.message.id).toBe(first.message.id);
        expect(await s.meta.queue.finishScan(first, { verdicts: [], next: 'deliver', now: 3002 })).toBe(false);
        expect(await s.meta.queue.deferScan(again, 9000, 'av: timeout')).toBe(true);
        expect(await s.meta.queue.leaseScan({ now: 8999, leaseMs: 1000, limit: 10 })).toHaveLength(0);
        expect((await s.meta.queue.listRecipients(first.message.id))[0]).toMatchObject({ state: 'scanning', lastError: 'av: timeout' });
        expect(await s.meta.queue.leaseScan({ now: 9000, leaseMs: 1000, limit: 10 })).toHaveLength(1);
      });

      it('quarantines at enqueue or after a scan; release is recorded and delivers; delete keeps the record', async () => {
        const held = await enqueue({ quarantine: { stage: 'spoof', reason: 'own-domain' } });
        const scanned = await enqueue('scan', [
          { address: 'a@remote.test', transport: 'remote' },
          { address: 'b@remote.test', transport: 'remote' },
        ]);
        const [scan] = (await s.meta.queue.leaseScan({ now: 2000, leaseMs: 1000, limit: 10 })) as [ScanLease];
        expect(await s.meta.queue.finishScan(scan, { verdicts: [verdict('av', 'hold')], next: { quarantine: { stage: 'av', reason: 'Eicar' } }, now: 2100 })).toBe(true);
        expect(await leaseRemote(3000)).toHaveLength(0);
        const list = await s.meta.quarantine.list({ state: 'held' });
        expect(list.map((q) => [q.queueId, q.stage, q.reason])).toEqual([
          [scanned, 'av', 'Eicar'],
          [held, 'spoof', 'own-domain'],
        ]);
        expect(list[0]).toMatchObject({ sender: 's@x.test', recipients: ['a@remote.test', 'b@remote.test'], state: 'held', actor: null });
        expect(await s.meta.quarantine.release(held, 'auditor@example.org', 3000)).toBe(true);
        expect(await s.meta.quarantine.release(held, 'auditor@example.org', 3001)).toBe(false);
        expect(await s.meta.quarantine.get(held)).toMatchObject({ state: 'released', actor: 'auditor@example.org', actedAt: 3000 });
        expect((await leaseRemote(3000)).map((l) => l.message.id)).toEqual([held]);
        expect(await s.meta.quarantine.delete(scanned, 'auditor@example.org', 3100)).toBe(true);
        expect(await s.meta.queue.getMessage(scanned)).toBeNull();
        expect(await s.meta.quarantine.get(scanned)).toMatchObject({ state: 'deleted', actor: 'auditor@example.org' });
        expect(await s.meta.quarantine.list({ state: 'held' })).toEqual([]);
      });

      it('moves delivered copies into the quarantine (a rescan); release delivers them again', async () => {
        const alice = await addUser('alice@example.org');
        const bob = await addUser('bob@example.org');
        const aInbox = await s.meta.mailboxes.createFolder(alice.id, 'INBOX', null, 1);
        const aOld = await s.meta.mailboxes.createFolder(alice.id, 'Archive', null, 1);
        const bInbox = await s.meta.mailboxes.createFolder(bob.id, 'INBOX', null, 1);
        const bad = await s.blobs.put(Buffer.from('Subject: bad\r\n\r\nmarker\r\n'));
        const good = await s.blobs.put(Buffer.from('Subject: good\r\n\r\nfine\r\n'));
        const m = { blobId: bad.id, size: bad.size, internalDate: 5 };
        const a1 = await s.meta.mailboxes.append(aInbox.id, m);
        const a2 = await s.meta.mailboxes.append(aOld.id, m);
        const kept = await s.meta.mailboxes.append(aInbox.id, { blobId: good.id, size: good.size, internalDate: 6 });
        const b1 = await s.meta.mailboxes.append(bInbox.id, m);
        const before = (await s.meta.mailboxes.getFolderById(aInbox.id))!.highestModseq;
        const id = newQueueId();
        const copies = [
          { folderId: aInbox.id, uid: a1.uid, accountId: alice.id, address: alice.address },
          { folderId: aOld.id, uid: a2.uid, accountId: alice.id, address: alice.address },
          { folderId: bInbox.id, uid: b1.uid, accountId: bob.id, address: bob.address },
          // Not this blob: left alone.
          { folderId: aInbox.id, uid: kept.uid, accountId: alice.id, address: alice.address },
        ];
        const hold = { queueId: id, blobId: bad.id, size: bad.size, sender: 's@x.test', at: 7000, stage: 'malware', reason: 'malware: clamav: Sig', verdicts: [verdict('malware', 'hold')], copies };
        expect(await s.meta.quarantine.holdStored(hold)).toBe(3);
        expect((await s.meta.mailboxes.listMessages(aInbox.id)).map((x) => x.uid)).toEqual([kept.uid]);
        expect(await s.meta.mailboxes.listMessages(aOld.id)).toEqual([]);
        expect(await s.meta.mailboxes.listMessages(bInbox.id)).toEqual([]);
        // IMAP clients learn of the removal (CONDSTORE/QRESYNC).
        const changes = await s.meta.mailboxes.changesSince(aInbox.id, before);
        expect(changes.expunged).toEqual([a1.uid]);
        expect(await s.meta.quarantine.get(id)).toMatchObject({ stage: 'malware', state: 'held', sender: 's@x.test', size: bad.size });
        expect((await s.meta.quarantine.get(id))!.recipients.slice().sort()).toEqual([alice.address, bob.address]);
        expect((await s.meta.queue.getMessage(id))!.verdicts.map((v) => v.stage)).toEqual(['malware']);
        expect((await s.meta.queue.listRecipients(id)).map((r) => [r.address, r.state, r.transport])).toEqual([
          [alice.address, 'held', 'local'],
          [bob.address, 'held', 'local'],
        ]);
        // The blob stays referenced: no garbage collection takes it from the quarantine.
        expect(await s.meta.mailboxes.blobReferences(bad.id)).toBeGreaterThan(0);
        // Done again (copies gone): nothing is written.
        expect(await s.meta.quarantine.holdStored({ ...hold, queueId: newQueueId() })).toBe(0);
        expect(await s.meta.quarantine.list({ state: 'held' })).toHaveLength(1);
        expect(await s.meta.quarantine.release(id, 'auditor@example.org', 8000)).toBe(true);
        expect((await s.meta.queue.lease({ transport: 'local', now: 8000, leaseMs: 1000, limit: 10 })).map((l) => l.recipient.address).sort()).toEqual([alice.address, bob.address]);
      });

      it('keeps the verdicts with mail delivered into a mailbox', async () => {
        const user = await addUser();
        const inbox = await s.meta.mailboxes.createFolder(user.id, 'INBOX', null, 1);
        const id = await enqueue('deliver', [{ address: user.address, transport: 'local', accountId: user.id }]);
        const [l] = (await s.meta.queue.lease({ transport: 'local', now: 2000, leaseMs: 1000, limit: 1 })) as [Lease];
        expect(await s.meta.queue.deliverLocal(l, inbox.id, 2001)).not.toBeNull();
        expect(await s.meta.verdicts.get(l.message.blobId)).toEqual({ queueId: id, verdicts: [verdict('auth', 'pass')] });
        expect(await s.meta.verdicts.get('0'.repeat(64))).toBeNull();
        // Kept while a message uses the blob; pruned with the header cache once none does.
        await s.meta.mailboxes.pruneHeaderCache();
        expect(await s.meta.verdicts.get(l.message.blobId)).not.toBeNull();
        await s.meta.mailboxes.expunge(inbox.id, [1]);
        await s.meta.mailboxes.pruneHeaderCache();
        expect(await s.meta.verdicts.get(l.message.blobId)).toBeNull();
      });
    });

    describe('delivery times', () => {
      it('records each delivery with its direction and answers percentiles per direction and window', async () => {
        const user = await addUser();
        const inbox = await s.meta.mailboxes.createFolder(user.id, 'INBOX', null, 1);
        const put = async (source: 'mx' | 'submission', transport: 'local' | 'remote') => {
          const blob = await s.blobs.put(Buffer.from(`Subject: t ${newQueueId()}\r\n\r\nx\r\n`));
          await s.meta.queue.enqueue(
            { id: newQueueId(), blobId: blob.id, size: blob.size, sender: 's@x.test', receivedAt: 1000, source, clientAddress: '127.0.0.1', authUser: null, meta: {} },
            [transport === 'local' ? { address: user.address, transport, accountId: user.id } : { address: 'r@remote.test', transport }],
          );
        };
        for (let i = 1; i <= 10; i++) await put('mx', 'local');
        await put('submission', 'local');
        await put('submission', 'remote');
        // Inbound deliveries 100 ms, 200 ms, ... 1000 ms after acceptance.
        for (let i = 1; i <= 10; i++) {
          const [l] = (await s.meta.queue.lease({ transport: 'local', now: 1000, leaseMs: 60_000, limit: 1 })) as [Lease];
          expect(await s.meta.queue.deliverLocal(l, inbox.id, l.message.source === 'mx' ? 1000 + i * 100 : 1050)).not.toBeNull();
        }
        const [last] = (await s.meta.queue.lease({ transport: 'local', now: 1000, leaseMs: 60_000, limit: 1 })) as [Lease];
        await s.meta.queue.deliverLocal(last, inbox.id, 1070);
        const [remote] = (await s.meta.queue.lease({ transport: 'remote', now: 1000, leaseMs: 60_000, limit: 1 })) as [Lease];
        expect(await s.meta.queue.complete(remote, 6000)).toBe(true);
        const sum = await s.meta.deliveryTimes.summary({ since: 0 });
        const by = Object.fromEntries(sum.map((r) => [r.direction, r]));
        expect(by.inbound).toMatchObject({ count: 10, p50Ms: 500, p95Ms: 1000, p99Ms: 1000, maxMs: 1000, avgMs: 550 });
        expect(Object.keys(by).sort()).toEqual(['inbound', 'internal', 'outbound']);
        expect(by.outbound).toMatchObject({ count: 1, p50Ms: 5000 });
        expect(await s.meta.deliveryTimes.summary({ since: 1500 })).toEqual([expect.objectContaining({ direction: 'inbound', count: 6 }), expect.objectContaining({ direction: 'outbound' })]);
        expect(await s.meta.deliveryTimes.prune(2000)).toBe(10);
      });
    });

    describe('garbage collection', () => {
      const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
      const unused = async (id: string) => (await s.meta.mailboxes.blobReferences(id)) === 0;

      it('deletes old unreferenced blobs only, keeps blobs stored again since, and reports the bytes', async () => {
        const a = await addUser();
        const f = await s.meta.mailboxes.createFolder(a.id, 'INBOX', null, 1);
        const gone = await s.blobs.put(Buffer.from('Subject: gone\r\n\r\n' + 'x'.repeat(5000)));
        const again = await s.blobs.put(Buffer.from('Subject: stored again\r\n\r\ny'));
        const shared = await s.blobs.put(Buffer.from('Subject: shared\r\n\r\nz'));
        const queued = await s.blobs.put(Buffer.from('Subject: queued\r\n\r\nq'));
        await s.meta.mailboxes.append(f.id, { blobId: shared.id, size: shared.size, internalDate: 1 });
        const m2 = await s.meta.mailboxes.append(f.id, { blobId: shared.id, size: shared.size, internalDate: 2 });
        await s.meta.queue.enqueue(
          { id: newQueueId(), blobId: queued.id, size: queued.size, sender: '', receivedAt: 1, source: 'mx', clientAddress: '127.0.0.1', authUser: null, meta: {} },
          [{ address: 'r@remote.test', transport: 'remote' }],
        );
        await sleep(30);
        const mid = Date.now();
        await sleep(30);
        // Identical bytes stored again (an APPEND or enqueue about to reference them): young again.
        expect((await s.blobs.put(Buffer.from('Subject: stored again\r\n\r\ny'))).id).toBe(again.id);
        const all = [gone.id, again.id, shared.id, queued.id];
        const size = (await s.blobs.storedSize(gone.id))!;
        expect(await s.blobs.collectGarbage(all, mid, unused, true)).toEqual({ deleted: [gone.id], bytes: size });
        expect(await s.blobs.has(gone.id)).toBe(true);
        expect(await s.blobs.collectGarbage(all, mid, unused)).toEqual({ deleted: [gone.id], bytes: size });
        expect(await s.blobs.has(gone.id)).toBe(false);
        for (const id of [again.id, shared.id, queued.id]) expect(await s.blobs.has(id)).toBe(true);
        // A shared blob stays while one message still uses it.
        await s.meta.mailboxes.expunge(f.id, [m2.uid]);
        const later = Date.now() + 60_000;
        expect((await s.blobs.collectGarbage([shared.id], later, unused)).deleted).toEqual([]);
        await s.meta.mailboxes.expunge(f.id, [1]);
        expect((await s.blobs.collectGarbage([shared.id, again.id, queued.id], later, unused)).deleted.sort()).toEqual([shared.id, again.id].sort());
        expect(Buffer.from(await s.blobs.get(queued.id)).toString()).toContain('queued');
        // Gone ids are no error.
        expect(await s.blobs.collectGarbage([gone.id], later, unused)).toEqual({ deleted: [], bytes: 0 });
      });

      it('prunes old events page by page, keeping the newest of each kind', async () => {
        for (let i = 0; i < 7; i++) await s.meta.events.record('auth.failed', '127.0.0.1', { i }, 100 + i);
        await s.meta.events.record('integrity.scrub_completed', 'store', {}, 50);
        await s.meta.events.record('auth.failed', '127.0.0.1', { i: 'new' }, 10_000);
        expect(await s.meta.events.prune(1000, 5, true)).toBe(7);
        expect(await s.meta.events.prune(1000, 5)).toBe(5);
        expect(await s.meta.events.prune(1000, 5)).toBe(2);
        expect(await s.meta.events.prune(1000, 5)).toBe(0);
        expect(await s.meta.events.count('auth.failed')).toBe(1);
        // The last scrub is old, but the only one of its kind: it stays.
        expect(await s.meta.events.count('integrity.scrub_completed')).toBe(1);
        expect(await s.meta.events.prune(1_000_000, 5)).toBe(0);
      });
    });

    describe('events', () => {
      it('lists events newest first, by kind, since a time, up to a limit', async () => {
        const ev = s.meta.events;
        await ev.record('integrity.scrub_completed', 'a', { clean: true }, 100);
        await ev.record('server.heartbeat', 'n', {}, 150);
        await ev.record('integrity.scrub_completed', 'b', { clean: false }, 200);
        await ev.record('integrity.scrub_completed', 'c', { clean: true }, 300);
        expect((await ev.list('integrity.scrub_completed')).map((e) => e.subject)).toEqual(['c', 'b', 'a']);
        expect((await ev.list('integrity.scrub_completed', 1))[0]).toMatchObject({ kind: 'integrity.scrub_completed', subject: 'c', at: 300, data: { clean: true } });
        expect((await ev.list('integrity.scrub_completed', 10, 200)).map((e) => e.subject)).toEqual(['c', 'b']);
        expect((await ev.list(undefined, 10, 150)).map((e) => e.subject)).toEqual(['c', 'b', 'n']);
        expect((await ev.list(undefined, 2)).map((e) => e.subject)).toEqual(['c', 'b']);
        expect(await ev.list('server.heartbeat', 10, 151)).toEqual([]);
      });

      it('records several events at once, in order, and the feed hears them', async () => {
        const heard: string[] = [];
        const fed = s as Partial<{ feed: { listen(fn: (e: { subject: string }) => void): () => void } }>;
        const off = fed.feed?.listen((e) => heard.push(e.subject));
        await s.meta.events.recordMany([
          { kind: 'smtp.message', subject: 'M1', data: { listener: 'mx', tls: 'none' }, at: 100 },
          { kind: 'smtp.message', subject: 'M2', data: { listener: 'mx', tls: 'TLSv1.3' }, at: 101 },
        ]);
        await s.meta.events.recordMany([]);
        off?.();
        const rows = (await s.meta.events.list('smtp.message')).reverse();
        expect(rows.map((r) => [r.subject, r.at, r.data.tls])).toEqual([
          ['M1', 100, 'none'],
          ['M2', 101, 'TLSv1.3'],
        ]);
        if (fed.feed) expect(heard).toEqual(['M1', 'M2']);
      });

      it('tallies events of a kind since a time by data fields', async () => {
        const ev = s.meta.events;
        await ev.record('spoof.detected', 'Q1', { detector: 'lookalike', origin: 'outside' }, 100);
        await ev.record('spoof.detected', 'Q2', { detector: 'lookalike', origin: 'outside' }, 200);
        await ev.record('spoof.detected', 'Q3', { detector: 'own-domain', origin: 'inside' }, 300);
        await ev.record('spoof.detected', 'Q4', { detector: 'own-domain' }, 50);
        await ev.record('other', 'Q5', { detector: 'lookalike' }, 300);
        expect(await ev.tally('spoof.detected', 100, ['detector', 'origin'])).toEqual([
          { labels: { detector: 'lookalike', origin: 'outside' }, count: 2 },
          { labels: { detector: 'own-domain', origin: 'inside' }, count: 1 },
        ]);
        expect(await ev.tally('spoof.detected', 0, [])).toEqual([{ labels: {}, count: 4 }]);
        expect(await ev.tally('spoof.detected', 0, ['origin'])).toContainEqual({ labels: { origin: null }, count: 1 });
        await expect(ev.tally('spoof.detected', 0, ["x') OR 1=1 --"])).rejects.toThrow(/field names/);
      });
      it('tallies only before `until` when given', async () => {
        const ev = s.meta.events;
        for (const [at, tls] of [[99, 'none'], [100, 'TLSv1.3'], [150, 'none'], [199, 'TLSv1.3'], [200, 'TLSv1.3']] as const) await ev.record('smtp.message', 'mx', { listener: 'mx', tls }, at);
        expect(await ev.tally('smtp.message', 100, ['tls'], 200)).toEqual([
          { labels: { tls: 'TLSv1.3' }, count: 2 },
          { labels: { tls: 'none' }, count: 1 },
        ]);
        expect(await ev.tally('smtp.message', 100, ['tls'])).toContainEqual({ labels: { tls: 'TLSv1.3' }, count: 3 });
        expect(await ev.tally('smtp.message', 200, [], 200)).toEqual([]);
      });
      it('counts events per bucket of time counted from `since`', async () => {
        const ev = s.meta.events;
        for (const [at, tls] of [[5, 'none'], [10, 'none'], [19, 'TLSv1.3'], [19, 'none'], [35, 'TLSv1.2'], [40, 'none']] as const) await ev.record('smtp.message', 'mx', { tls }, at);
        await ev.record('other', 'mx', { tls: 'none' }, 12);
        expect(await ev.histogram('smtp.message', 10, 40, 10, ['tls'])).toEqual([
          { start: 10, labels: { tls: 'none' }, count: 2 },
          { start: 10, labels: { tls: 'TLSv1.3' }, count: 1 },
          { start: 30, labels: { tls: 'TLSv1.2' }, count: 1 },
        ]);
        expect(await ev.histogram('smtp.message', 0, 100, 50, [])).toEqual([
          { start: 0, labels: {}, count: 6 },
        ]);
        await expect(ev.histogram('smtp.message', 0, 100, 0, [])).rejects.toThrow(/bucketMs/);
        await expect(ev.histogram('smtp.message', 0, 100, 10, ['$.x'])).rejects.toThrow(/field names/);
      });
      it('finds the newest event of a kind at or before a time, and events between two times', async () => {
        const ev = s.meta.events;
        expect(await ev.latest('integrity.scrub_completed', 1000)).toBeNull();
        await ev.record('integrity.scrub_completed', 'store', { n: 1 }, 100);
        await ev.record('integrity.scrub_completed', 'store', { n: 2 }, 200);
        await ev.record('integrity.scrub_completed', 'store', { n: 3 }, 300);
        expect((await ev.latest('integrity.scrub_completed', 299))?.data).toEqual({ n: 2 });
        expect((await ev.latest('integrity.scrub_completed', 300))?.data).toEqual({ n: 3 });
        expect(await ev.latest('integrity.scrub_completed', 99)).toBeNull();
        expect((await ev.between('integrity.scrub_completed', 100, 300)).map((e) => e.data.n)).toEqual([1, 2]);
        expect((await ev.between('integrity.scrub_completed', 0, 1000, 1)).map((e) => e.data.n)).toEqual([1]);
      });
      it('counts events per subject, most first, and groups by camelCase fields', async () => {
        const ev = s.meta.events;
        for (const [at, d] of [[10, 'b.example'], [11, 'a.example'], [12, 'b.example'], [13, 'c.example'], [99, 'c.example'], [5, 'c.example']] as const)
          await ev.record('tls.failure', d, { policy: 'dane', resultType: 'validation-failure' }, at);
        expect(await ev.topSubjects('tls.failure', 10, 99, 2)).toEqual([
          { subject: 'b.example', count: 2 },
          { subject: 'a.example', count: 1 },
        ]);
        expect(await ev.tally('tls.failure', 0, ['resultType'], 99)).toEqual([{ labels: { resultType: 'validation-failure' }, count: 5 }]);
      });
      it('records and counts events by kind', async () => {
        await s.meta.events.record('integrity.corrected', 'blob:1', { block: 3, bit: 17 }, 5);
        await s.meta.events.record('auth.failed', '127.0.0.1', {}, 6);
        expect(await s.meta.events.count('integrity.corrected')).toBe(1);
        const [e] = await s.meta.events.list('integrity.corrected');
        expect(e).toMatchObject({ at: 5, subject: 'blob:1', data: { block: 3, bit: 17 } });
      });

      it('tails events of some kinds after an id, ascending and bounded', async () => {
        const ev = s.meta.events;
        for (let i = 0; i < 6; i++) await ev.record(i % 2 ? 'integrity.missing' : 'server.heartbeat', `s${i}`, { i }, 100 + i);
        const all = await ev.after(0, ['integrity.missing', 'storage.full'], 10);
        expect(all.map((e) => e.subject)).toEqual(['s1', 's3', 's5']);
        expect(all[0]).toMatchObject({ kind: 'integrity.missing', at: 101, data: { i: 1 } });
        expect((await ev.after(all[0]!.id, ['integrity.missing'], 1)).map((e) => e.subject)).toEqual(['s3']);
        expect(await ev.after(all[2]!.id, ['integrity.missing'], 10)).toEqual([]);
        expect(await ev.after(0, [], 10)).toEqual([]);
      });

      it('moves a named cursor by compare-and-set: of two claims of the same events one wins', async () => {
        const ev = s.meta.events;
        expect(await ev.cursor('alerts', 7)).toBe(7);
        expect(await ev.cursor('alerts', 99)).toBe(7); // the first start wins
        expect(await ev.cursor('other', 0)).toBe(0);
        const claims = await Promise.all([ev.claim('alerts', 7, 12), ev.claim('alerts', 7, 12), ev.claim('alerts', 7, 11)]);
        expect(claims.filter(Boolean)).toHaveLength(1);
        const now = await ev.cursor('alerts', 0);
        expect([11, 12]).toContain(now);
        expect(await ev.claim('alerts', now, 20)).toBe(true);
        expect(await ev.claim('alerts', now, 30)).toBe(false);
        expect(await ev.cursor('alerts', 0)).toBe(20);
        expect(await ev.cursor('other', 0)).toBe(0);
      });
    });

    describe('dmarc reports', () => {
      type Rec = DmarcReportInput['records'][number];
      const rec = (sourceIp: string, count: number, dkim: 'pass' | 'fail', spf: 'pass' | 'fail', headerFrom = 'example.org'): Rec => ({
        sourceIp,
        count,
        disposition: dkim === 'pass' || spf === 'pass' ? 'none' : 'quarantine',
        dkim,
        spf,
        headerFrom,
        envelopeFrom: 'bounce.example.org',
        authDkim: [{ domain: 'example.org', result: dkim, selector: 's1' }],
        authSpf: [{ domain: 'bounce.example.org', result: spf, scope: 'mfrom' }],
      });
      const report = (orgName: string, reportId: string, end: number, records: Rec[], domain = 'example.org'): DmarcReportInput => ({
        orgName,
        email: `noreply@${orgName || 'anon.example'}`,
        reportId,
        begin: end - 86_400,
        end,
        domain,
        policy: { adkim: 'r', aspf: 'r', p: 'quarantine', sp: 'quarantine', pct: 100 },
        records,
      });
      const DAY = 86_400; // seconds: report periods are in seconds, queries in ms

      it('stores a report once, however often it is mailed', async () => {
        const r = report('google.com', 'abc', 10 * DAY, [rec('192.0.2.1', 3, 'pass', 'pass')]);
        expect(await s.meta.dmarcReports.add(r, 1_000)).toBe(true);
        expect(await s.meta.dmarcReports.add(r, 2_000)).toBe(false);
        // The same report id from another reporter, or for another domain, is another report.
        expect(await s.meta.dmarcReports.add({ ...r, orgName: 'yahoo.com' }, 3_000)).toBe(true);
        expect(await s.meta.dmarcReports.add({ ...r, domain: 'example.net' }, 4_000)).toBe(true);
        const list = await s.meta.dmarcReports.list({ since: 0 });
        expect(list).toHaveLength(3);
        expect(list.find((x) => x.orgName === 'google.com' && x.domain === 'example.org')).toMatchObject({
          reportId: 'abc',
          email: 'noreply@google.com',
          begin: 9 * DAY,
          end: 10 * DAY,
          receivedAt: 1_000,
          rows: 1,
          messages: 3,
        });
        const [sum] = await s.meta.dmarcReports.summary({ since: 0, domain: 'example.org' });
        expect(sum!.count).toBe(6); // google.com and yahoo.com, not the duplicate
      });

      it('sums counts per domain, source IP and header From, with DMARC pass when DKIM or SPF passes', async () => {
        await s.meta.dmarcReports.add(
          report('google.com', 'g1', 10 * DAY, [
            rec('192.0.2.1', 10, 'pass', 'pass'),
            rec('192.0.2.1', 2, 'pass', 'fail'),
            rec('198.51.100.7', 5, 'fail', 'fail'),
            rec('2001:db8::1', 1, 'fail', 'pass'),
          ]),
          1,
        );
        await s.meta.dmarcReports.add(report('', 'anon-1', 10 * DAY, [rec('198.51.100.7', 4, 'fail', 'fail'), rec('192.0.2.1', 1, 'fail', 'fail')]), 2);
        await s.meta.dmarcReports.add(report('Yahoo', 'y1', 10 * DAY, [rec('198.51.100.7', 1, 'fail', 'pass', 'sub.example.org')]), 3);
        await s.meta.dmarcReports.add(report('google.com', 'g2', 10 * DAY, [rec('203.0.113.9', 100, 'fail', 'fail', 'example.net')], 'example.net'), 4);

        expect(await s.meta.dmarcReports.summary({ since: 0, domain: 'example.org' })).toEqual([
          { domain: 'example.org', sourceIp: '192.0.2.1', headerFrom: 'example.org', count: 13, dkimPass: 12, dkimFail: 1, spfPass: 10, spfFail: 3, dmarcPass: 12, dmarcFail: 1, reporters: ['google.com', 'noreply@anon.example'] },
          { domain: 'example.org', sourceIp: '198.51.100.7', headerFrom: 'example.org', count: 9, dkimPass: 0, dkimFail: 9, spfPass: 0, spfFail: 9, dmarcPass: 0, dmarcFail: 9, reporters: ['google.com', 'noreply@anon.example'] },
          { domain: 'example.org', sourceIp: '198.51.100.7', headerFrom: 'sub.example.org', count: 1, dkimPass: 0, dkimFail: 1, spfPass: 1, spfFail: 0, dmarcPass: 1, dmarcFail: 0, reporters: ['Yahoo'] },
          { domain: 'example.org', sourceIp: '2001:db8::1', headerFrom: 'example.org', count: 1, dkimPass: 0, dkimFail: 1, spfPass: 1, spfFail: 0, dmarcPass: 1, dmarcFail: 0, reporters: ['google.com'] },
        ]);
        const all = await s.meta.dmarcReports.summary({ since: 0 });
        expect(all.map((r) => [r.domain, r.sourceIp, r.count])).toEqual([
          ['example.net', '203.0.113.9', 100],
          ['example.org', '192.0.2.1', 13],
          ['example.org', '198.51.100.7', 9],
          ['example.org', '198.51.100.7', 1],
          ['example.org', '2001:db8::1', 1],
        ]);
        expect(await s.meta.dmarcReports.summary({ since: 0, domain: 'nobody.example' })).toEqual([]);
      });

      it('selects reports by the end of their period', async () => {
        await s.meta.dmarcReports.add(report('a.example', 'old', 5 * DAY, [rec('192.0.2.1', 1, 'pass', 'pass')]), 1);
        await s.meta.dmarcReports.add(report('a.example', 'new', 20 * DAY, [rec('192.0.2.2', 2, 'pass', 'pass')]), 2);
        await s.meta.dmarcReports.add(report('a.example', 'empty', 30 * DAY, []), 3);
        const since = 20 * DAY * 1000;
        expect((await s.meta.dmarcReports.list({ since })).map((r) => [r.reportId, r.rows, r.messages])).toEqual([
          ['empty', 0, 0],
          ['new', 1, 2],
        ]);
        expect((await s.meta.dmarcReports.list({ since: 0 })).map((r) => r.reportId)).toEqual(['empty', 'new', 'old']);
        expect((await s.meta.dmarcReports.list({ since: 0, limit: 1 })).map((r) => r.reportId)).toEqual(['empty']);
        expect((await s.meta.dmarcReports.summary({ since: since + 1000 })).map((r) => r.sourceIp)).toEqual([]);
        expect((await s.meta.dmarcReports.summary({ since })).map((r) => r.sourceIp)).toEqual(['192.0.2.2']);
      });

      it('stores a large report in full', async () => {
        const recs = Array.from({ length: 12_000 }, (_, i) => rec(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 1 + (i % 3), i % 2 ? 'pass' : 'fail', 'fail'));
        expect(await s.meta.dmarcReports.add(report('big.example', 'big', 10 * DAY, recs), 1)).toBe(true);
        const [m] = await s.meta.dmarcReports.list({ since: 0 });
        expect(m).toMatchObject({ rows: 12_000, messages: recs.reduce((a, r) => a + r.count, 0) });
        const sum = await s.meta.dmarcReports.summary({ since: 0 });
        expect(sum).toHaveLength(12_000);
        expect(sum.reduce((a, r) => a + r.dmarcPass, 0)).toBe(recs.filter((r) => r.dkim === 'pass').reduce((a, r) => a + r.count, 0));
      });
    });

    describe('audit log', () => {
      const entry = (i: number) => ({ at: 1000 + i, actor: i % 2 ? 'cli:root' : 'admin@example.org', action: i % 3 ? 'user.add' : 'queue.delete', subject: `s${i}`, data: { i, roles: ['user'] } });
      const everything = async () => {
        const out: AuditRecord[] = [];
        for await (const r of s.meta.audit.all(7)) out.push(r);
        return out;
      };

      it('chains 50 concurrent appends into one intact log', async () => {
        const got = await Promise.all(Array.from({ length: 50 }, (_, i) => s.meta.audit.append(entry(i))));
        expect(got.map((g) => g.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
        const all = await everything();
        expect(all).toHaveLength(50);
        expect(all.map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
        expect(verifyChain(all)).toEqual({ ok: true });
        expect(all.find((r) => r.subject === 's7')?.data).toEqual({ i: 7, roles: ['user'] });
      });

      it('lists by actor, action, time and start, ascending and limited', async () => {
        for (let i = 0; i < 12; i++) await s.meta.audit.append(entry(i));
        expect((await s.meta.audit.list()).map((r) => r.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
        expect((await s.meta.audit.list({ actor: 'cli:root' })).map((r) => r.subject)).toEqual(['s1', 's3', 's5', 's7', 's9', 's11']);
        expect((await s.meta.audit.list({ action: 'queue.delete', actor: 'admin@example.org' })).map((r) => r.subject)).toEqual(['s0', 's6']);
        expect((await s.meta.audit.list({ since: 1010 })).map((r) => r.subject)).toEqual(['s10', 's11']);
        expect((await s.meta.audit.list({ fromSeq: 4, limit: 2 })).map((r) => r.seq)).toEqual([4, 5]);
      });

      it('stores checkpoints', async () => {
        const a = await s.meta.audit.append(entry(0));
        await s.meta.audit.addCheckpoint({ seq: a.seq, at: 5, hash: a.hash, signature: 'c2ln', keyId: '0123456789abcdef' });
        expect(await s.meta.audit.listCheckpoints()).toEqual([{ seq: 1, at: 5, hash: a.hash, signature: 'c2ln', keyId: '0123456789abcdef' }]);
      });

      if (rawSql) {
        const tampered = async (statement: string | string[]) => {
          for (let i = 0; i < 10; i++) await s.meta.audit.append(entry(i));
          for (const st of Array.isArray(statement) ? statement : [statement]) await rawSql(s, st);
          return verifyChain(await everything());
        };

        it('detects an edited record', async () => {
          expect(await tampered(`UPDATE audit_log SET data = '{"i":4,"roles":["admin"]}' WHERE seq = 5`)).toEqual({ ok: false, seq: 5, reason: 'hash does not match (edited)' });
        });

        it('detects a deleted record', async () => {
          expect(await tampered('DELETE FROM audit_log WHERE seq = 4')).toMatchObject({ ok: false, seq: 5 });
        });

        it('detects two swapped records', async () => {
          const swap = ['UPDATE audit_log SET seq = -1 WHERE seq = 3', 'UPDATE audit_log SET seq = 3 WHERE seq = 7', 'UPDATE audit_log SET seq = 7 WHERE seq = -1'];
          expect(await tampered(swap)).toMatchObject({ ok: false, seq: 3 });
        });
      }
    });

    describe('certificates', () => {
      const DAY = 86_400_000;
      const fp = (n: number) => n.toString(16).padStart(64, '0');
      const cert = (address: string, n: number, notBefore: number, notAfter: number, source: 'uploaded' | 'issued' | 'learned' = 'uploaded') => ({
        address,
        der: new Uint8Array([0x30, 0x82, n & 255, 0, 255, 13, 10]),
        fingerprint: fp(n),
        source,
        notBefore,
        notAfter,
      });

      it('stores a certificate and hands its bytes back exactly', async () => {
        const c = await s.meta.certificates.put(cert('Alice@Example.org', 1, 0, 10 * DAY), 5);
        expect(c).toMatchObject({ address: 'alice@example.org', fingerprint: fp(1), source: 'uploaded', notBefore: 0, notAfter: 10 * DAY, addedAt: 5, revoked: false });
        expect(c.id).toBeGreaterThan(0);
        const [got] = await s.meta.certificates.list('ALICE@example.org');
        expect(got).toEqual(c);
        expect(Buffer.from(got!.der)).toEqual(Buffer.from([0x30, 0x82, 1, 0, 255, 13, 10]));
      });

      it('puts the same fingerprint once, refreshing source and time, keeping a revocation, never demoted to learned', async () => {
        const a = await s.meta.certificates.put(cert('alice@example.org', 2, 0, DAY, 'learned'), 1);
        expect(await s.meta.certificates.setRevoked(fp(2), true)).toBe(true);
        const b = await s.meta.certificates.put(cert('alice@example.org', 2, 0, DAY, 'uploaded'), 9);
        expect(b).toMatchObject({ id: a.id, source: 'uploaded', addedAt: 9, revoked: true });
        // Seen again in a signature: an imported certificate stays imported.
        expect(await s.meta.certificates.put(cert('alice@example.org', 2, 0, DAY, 'learned'), 12)).toMatchObject({ id: a.id, source: 'uploaded', addedAt: 12 });
        expect(await s.meta.certificates.put(cert('alice@example.org', 2, 0, DAY, 'issued'), 13)).toMatchObject({ source: 'issued' });
        expect(await s.meta.certificates.list()).toHaveLength(1);
      });

      it('returns only valid certificates of the address, newest first', async () => {
        await s.meta.certificates.put(cert('alice@example.org', 10, 0, 5 * DAY), 1); // expired at 6 days
        await s.meta.certificates.put(cert('alice@example.org', 11, 1 * DAY, 30 * DAY), 1);
        await s.meta.certificates.put(cert('alice@example.org', 12, 2 * DAY, 30 * DAY), 1);
        await s.meta.certificates.put(cert('alice@example.org', 13, 20 * DAY, 40 * DAY), 1); // not yet valid
        await s.meta.certificates.put(cert('alice@example.org', 14, 3 * DAY, 30 * DAY), 1); // revoked below
        await s.meta.certificates.put(cert('bob@example.org', 15, 0, 30 * DAY), 1);
        expect(await s.meta.certificates.setRevoked(fp(14), true)).toBe(true);
        const at = 6 * DAY;
        expect((await s.meta.certificates.valid('Alice@example.org', at)).map((c) => c.fingerprint)).toEqual([fp(12), fp(11)]);
        // The bounds: valid from notBefore, no longer at notAfter.
        expect((await s.meta.certificates.valid('alice@example.org', 5 * DAY)).map((c) => c.fingerprint)).toEqual([fp(12), fp(11)]);
        expect((await s.meta.certificates.valid('alice@example.org', 5 * DAY - 1)).map((c) => c.fingerprint)).toEqual([fp(12), fp(11), fp(10)]);
        expect(await s.meta.certificates.setRevoked(fp(14), false)).toBe(true);
        expect((await s.meta.certificates.valid('alice@example.org', at)).map((c) => c.fingerprint)).toEqual([fp(14), fp(12), fp(11)]);
        expect(await s.meta.certificates.valid('carol@example.org', at)).toEqual([]);
        expect((await s.meta.certificates.list('alice@example.org')).map((c) => c.fingerprint)).toEqual([fp(13), fp(14), fp(12), fp(11), fp(10)]);
        expect((await s.meta.certificates.list()).map((c) => c.address)).toEqual([...Array(5).fill('alice@example.org'), 'bob@example.org']);
      });

      it('removes by fingerprint and says whether anything was there', async () => {
        await s.meta.certificates.put(cert('alice@example.org', 20, 0, DAY), 1);
        await s.meta.certificates.put(cert('bob@example.org', 20, 0, DAY), 1); // one certificate naming two addresses
        expect(await s.meta.certificates.remove(fp(20).toUpperCase())).toBe(true);
        expect(await s.meta.certificates.remove(fp(20))).toBe(false);
        expect(await s.meta.certificates.setRevoked(fp(20), true)).toBe(false);
        expect(await s.meta.certificates.list()).toEqual([]);
      });

      it('refuses malformed input and stores nothing', async () => {
        await expect(s.meta.certificates.put({ ...cert('alice@example.org', 30, 0, DAY), fingerprint: 'nothex' }, 1)).rejects.toThrow(/fingerprint/);
        await expect(s.meta.certificates.put(cert('not an address', 31, 0, DAY), 1)).rejects.toThrow(/address/);
        await expect(s.meta.certificates.put({ ...cert('alice@example.org', 32, 0, DAY), der: new Uint8Array(0) }, 1)).rejects.toThrow(/empty/);
        await expect(s.meta.certificates.put({ ...cert('alice@example.org', 33, 0, DAY), source: 'stolen' as 'learned' }, 1)).rejects.toThrow(/source/);
        expect(await s.meta.certificates.list()).toEqual([]);
      });
    });

    describe('second factors', () => {
      const key = (id: string, address = 'alice@example.org') => ({ id, address, publicKey: new Uint8Array([0xa5, 1, 2, 3, 0, 255]), counter: 0, transports: ['usb', 'internal'] });
      const h = (n: number) => n.toString(16).padStart(64, '0');

      it('registers security keys per address and refuses an id twice', async () => {
        const c = await s.meta.factors.addCredential(key('AAEC_-x', 'Alice@Example.org'), 5);
        expect(c).toEqual({ id: 'AAEC_-x', address: 'alice@example.org', publicKey: new Uint8Array([0xa5, 1, 2, 3, 0, 255]), counter: 0, transports: ['usb', 'internal'], createdAt: 5, lastUsedAt: null });
        await s.meta.factors.addCredential(key('second'), 6);
        await s.meta.factors.addCredential(key('bobs', 'bob@example.org'), 7);
        await expect(s.meta.factors.addCredential(key('AAEC_-x', 'bob@example.org'), 8)).rejects.toThrow(/registered already/);
        expect((await s.meta.factors.listCredentials('ALICE@example.org')).map((x) => x.id)).toEqual(['AAEC_-x', 'second']);
        expect(await s.meta.factors.getCredential('bobs')).toMatchObject({ address: 'bob@example.org' });
        expect(await s.meta.factors.getCredential('aaec_-x')).toBeNull(); // ids are case-sensitive
        expect(await s.meta.factors.hasFactor('alice@example.org')).toBe(true);
        expect(await s.meta.factors.removeCredential('AAEC_-x')).toBe(true);
        expect(await s.meta.factors.removeCredential('AAEC_-x')).toBe(false);
        expect(await s.meta.factors.removeCredential('second')).toBe(true);
        expect(await s.meta.factors.hasFactor('alice@example.org')).toBe(false);
      });

      it('moves a counter only forward, except for keys without one', async () => {
        await s.meta.factors.addCredential(key('k'), 1);
        expect(await s.meta.factors.useCredential('k', 0, 2)).toBe(true); // no counter at all: allowed
        expect(await s.meta.factors.useCredential('k', 5, 3)).toBe(true);
        expect(await s.meta.factors.useCredential('k', 5, 4)).toBe(false); // replayed or cloned
        expect(await s.meta.factors.useCredential('k', 4, 4)).toBe(false);
        expect(await s.meta.factors.useCredential('k', 0, 4)).toBe(false);
        expect(await s.meta.factors.getCredential('k')).toMatchObject({ counter: 5, lastUsedAt: 3 });
        expect(await s.meta.factors.useCredential('missing', 9, 4)).toBe(false);
      });

      it('keeps one TOTP secret per address and never accepts a step twice', async () => {
        const secret = new Uint8Array(20).map((_, i) => i * 13);
        expect(await s.meta.factors.getTotp('alice@example.org')).toBeNull();
        await s.meta.factors.setTotp('Alice@example.org', secret, 10);
        expect(await s.meta.factors.getTotp('alice@example.org')).toEqual({ secret, lastStep: null, createdAt: 10 });
        expect(await s.meta.factors.hasFactor('alice@example.org')).toBe(true);
        expect(await s.meta.factors.useTotpStep('alice@example.org', 100)).toBe(true);
        expect(await s.meta.factors.useTotpStep('alice@example.org', 100)).toBe(false);
        expect(await s.meta.factors.useTotpStep('alice@example.org', 99)).toBe(false);
        expect(await s.meta.factors.useTotpStep('alice@example.org', 101)).toBe(true);
        expect(await s.meta.factors.useTotpStep('bob@example.org', 101)).toBe(false);
        await s.meta.factors.setTotp('alice@example.org', new Uint8Array(32).fill(7), 11); // a new secret starts afresh
        expect(await s.meta.factors.getTotp('alice@example.org')).toMatchObject({ lastStep: null, createdAt: 11 });
        expect(await s.meta.factors.removeTotp('alice@example.org')).toBe(true);
        expect(await s.meta.factors.hasFactor('alice@example.org')).toBe(false);
      });

      it('accepts an enrollment code once, for its address, before it expires', async () => {
        await s.meta.factors.addEnrollmentCode('alice@example.org', h(1), 1000, 1);
        expect(await s.meta.factors.consumeEnrollmentCode('bob@example.org', h(1), 2)).toBe(false);
        expect(await s.meta.factors.consumeEnrollmentCode('alice@example.org', h(2), 2)).toBe(false);
        expect(await s.meta.factors.consumeEnrollmentCode('alice@example.org', 'not a digest', 2)).toBe(false);
        expect(await s.meta.factors.consumeEnrollmentCode('ALICE@example.org', h(1).toUpperCase(), 999)).toBe(true);
        expect(await s.meta.factors.consumeEnrollmentCode('alice@example.org', h(1), 999)).toBe(false);
        await s.meta.factors.addEnrollmentCode('alice@example.org', h(3), 1000, 1);
        expect(await s.meta.factors.consumeEnrollmentCode('alice@example.org', h(3), 1000)).toBe(false); // expired
        await s.meta.factors.addEnrollmentCode('alice@example.org', h(4), 5000, 1);
        await s.meta.factors.addEnrollmentCode('alice@example.org', h(5), 5000, 2); // the newer code replaces the older
        expect(await s.meta.factors.consumeEnrollmentCode('alice@example.org', h(4), 3)).toBe(false);
        expect(await s.meta.factors.consumeEnrollmentCode('alice@example.org', h(5), 3)).toBe(true);
      });

      it('refuses bad input and changes nothing', async () => {
        await expect(s.meta.factors.addCredential({ ...key('x'), id: 'not base64url!' }, 1)).rejects.toThrow(/base64url/);
        await expect(s.meta.factors.addCredential({ ...key('x'), publicKey: new Uint8Array(0) }, 1)).rejects.toThrow(/public key/);
        await expect(s.meta.factors.addCredential({ ...key('x'), counter: -1 }, 1)).rejects.toThrow(/counter/);
        await expect(s.meta.factors.addCredential({ ...key('x'), transports: ['USB; drop'] }, 1)).rejects.toThrow(/transports/);
        await expect(s.meta.factors.addCredential(key('x', 'nobody'), 1)).rejects.toThrow(/address/);
        await expect(s.meta.factors.setTotp('alice@example.org', new Uint8Array(8), 1)).rejects.toThrow(/secret/);
        await expect(s.meta.factors.addEnrollmentCode('alice@example.org', 'abc', 5, 1)).rejects.toThrow(/SHA-256/);
        expect(await s.meta.factors.getCredential('x')).toBeNull();
        expect(await s.meta.factors.hasFactor('alice@example.org')).toBe(false);
      });
    });

    describe('urlauth keys', () => {
      it('makes one key per folder on first use, keeps it, and forgets it on reset or with the folder', async () => {
        const a = await addUser();
        const b = await addUser('bob@example.org');
        const k = s.meta.urlauthKeys;
        const inbox = await s.meta.mailboxes.createFolder(a.id, 'INBOX', null, 1);
        const other = await s.meta.mailboxes.createFolder(a.id, 'Other', null, 1);
        const one = Buffer.alloc(32, 1);
        const two = Buffer.alloc(32, 2);
        expect(await k.get(a.id, inbox.id)).toBeNull();
        expect(Buffer.from(await k.keyFor(a.id, inbox.id, one))).toEqual(one);
        expect(Buffer.from(await k.keyFor(a.id, inbox.id, two))).toEqual(one); // the first key stands
        expect(Buffer.from(await k.keyFor(a.id, other.id, two))).toEqual(two);
        expect(await k.get(b.id, inbox.id)).toBeNull(); // keyed by account as well as folder
        await k.reset(a.id, inbox.id);
        expect(await k.get(a.id, inbox.id)).toBeNull();
        expect(Buffer.from((await k.get(a.id, other.id))!)).toEqual(two);
        await k.keyFor(a.id, inbox.id, one);
        await k.reset(a.id, null);
        expect(await k.get(a.id, inbox.id)).toBeNull();
        expect(await k.get(a.id, other.id)).toBeNull();
        await k.keyFor(a.id, other.id, one);
        await s.meta.mailboxes.deleteFolder(other.id);
        expect(await k.get(a.id, other.id)).toBeNull();
      });
    });

    describe('sieve', () => {
      it('puts, gets, lists, renames and deletes scripts; one active at most', async () => {
        const a = await addUser();
        const b = await addUser('bob@example.org');
        const sv = s.meta.sieve;
        await sv.put(a.id, 'main', 'keep;\r\n', 10);
        await sv.put(a.id, 'vacation ✈', 'stop;', 11);
        await sv.put(a.id, 'main', 'discard;', 12); // replaces
        expect(await sv.get(a.id, 'main')).toEqual({ name: 'main', text: 'discard;', size: 8, active: false, updatedAt: 12 });
        expect(await sv.get(b.id, 'main')).toBeNull(); // another account's scripts are not visible
        expect(await sv.active(a.id)).toBeNull();
        expect(await sv.setActive(a.id, 'nope')).toBe(false);
        expect(await sv.setActive(a.id, 'main')).toBe(true);
        expect(await sv.setActive(a.id, 'vacation ✈')).toBe(true);
        expect(await sv.active(a.id)).toEqual({ name: 'vacation ✈', text: 'stop;' });
        expect((await sv.list(a.id)).map((x) => [x.name, x.active, x.size])).toEqual([['main', false, 8], ['vacation ✈', true, 5]]);
        expect(await sv.delete(a.id, 'vacation ✈')).toBe('active');
        expect(await sv.rename(a.id, 'vacation ✈', 'main', 13)).toBe('exists');
        expect(await sv.rename(a.id, 'gone', 'x', 13)).toBe('missing');
        expect(await sv.rename(a.id, 'vacation ✈', 'away', 13)).toBe('renamed');
        expect(await sv.active(a.id)).toEqual({ name: 'away', text: 'stop;' }); // the active mark moves with the name
        await sv.put(a.id, 'away', 'keep;', 14);
        expect((await sv.get(a.id, 'away'))?.active).toBe(true);
        expect(await sv.setActive(a.id, null)).toBe(true);
        expect(await sv.active(a.id)).toBeNull();
        expect(await sv.delete(a.id, 'away')).toBe('deleted');
        expect(await sv.delete(a.id, 'away')).toBe('missing');
        expect((await sv.list(a.id)).map((x) => x.name)).toEqual(['main']);
        expect(await sv.list(b.id)).toEqual([]);
      });

      it('refuses bad names, oversize texts and one script too many, changing nothing', async () => {
        const a = await addUser();
        const sv = s.meta.sieve;
        await expect(sv.put(a.id, '', 'keep;', 1)).rejects.toThrow(RangeError);
        await expect(sv.put(a.id, 'a\nb', 'keep;', 1)).rejects.toThrow(/control/);
        await expect(sv.put(a.id, 'x'.repeat(129), 'keep;', 1)).rejects.toThrow(/128/);
        await sv.put(a.id, 'é'.repeat(128), 'keep;', 1); // 128 characters, 256 bytes
        await expect(sv.put(a.id, 'big', 'x'.repeat(64 * 1024 + 1), 1)).rejects.toThrow(/bytes/);
        await sv.put(a.id, 'max', 'x'.repeat(64 * 1024), 1);
        for (let i = 2; i < 32; i++) await sv.put(a.id, `s${i}`, 'keep;', 1);
        expect((await sv.list(a.id)).length).toBe(32);
        await expect(sv.put(a.id, 'one more', 'keep;', 1)).rejects.toThrow(/at most 32/);
        await sv.put(a.id, 's2', 'discard;', 2); // replacing an existing one is fine
        await expect(sv.rename(a.id, 's2', 'bad\u0000', 3)).rejects.toThrow(RangeError);
        expect((await sv.list(a.id)).length).toBe(32);
        expect(await sv.get(a.id, 'big')).toBeNull();
      });

      it('remembers vacation replies per account and key, and prunes old ones', async () => {
        const a = await addUser();
        const b = await addUser('bob@example.org');
        const sv = s.meta.sieve;
        expect(await sv.vacationSeen(a.id, 'h:carol@example.com', 0)).toBe(false);
        await sv.vacationRemember(a.id, 'h:carol@example.com', 1000);
        await sv.vacationRemember(a.id, 'h:carol@example.com', 500); // never moves back
        expect(await sv.vacationSeen(a.id, 'h:carol@example.com', 1000)).toBe(true);
        expect(await sv.vacationSeen(a.id, 'h:carol@example.com', 1001)).toBe(false);
        expect(await sv.vacationSeen(b.id, 'h:carol@example.com', 0)).toBe(false);
        await sv.vacationRemember(b.id, 'h:dave@example.com', 3000);
        await expect(sv.vacationRemember(a.id, 'k'.repeat(1025), 1)).rejects.toThrow(RangeError);
        expect(await sv.pruneVacation(2000)).toBe(1);
        expect(await sv.vacationSeen(a.id, 'h:carol@example.com', 0)).toBe(false);
        expect(await sv.vacationSeen(b.id, 'h:dave@example.com', 0)).toBe(true);
      });
    });

    describe('integrity', () => {
      it('lists the blobs messages and queue entries reference, once each', async () => {
        const a = await addUser();
        const f = await s.meta.mailboxes.createFolder(a.id, 'INBOX', null, 1);
        const x = await s.blobs.put(Buffer.from('Subject: x\r\n\r\nx\r\n'));
        const y = await s.blobs.put(Buffer.from('Subject: y\r\n\r\ny\r\n'));
        await s.blobs.put(Buffer.from('nobody uses this'));
        await s.meta.mailboxes.append(f.id, { blobId: x.id, size: x.size, internalDate: 1 });
        await s.meta.mailboxes.append(f.id, { blobId: x.id, size: x.size, internalDate: 2 });
        await s.meta.queue.enqueue(
          { id: newQueueId(), blobId: y.id, size: y.size, sender: '', receivedAt: 1, source: 'mx', clientAddress: '127.0.0.1', authUser: null, meta: {} },
          [{ address: 'r@remote.test', transport: 'remote' }],
        );
        expect(await s.meta.integrity.referencedBlobs()).toEqual([x.id, y.id].sort());
      });

      it('marks blobs damaged, lists the messages that use them, and clears the mark', async () => {
        const a = await addUser();
        const f = await s.meta.mailboxes.createFolder(a.id, 'INBOX', null, 1);
        const x = await s.blobs.put(Buffer.from('Subject: x\r\n\r\nx\r\n'));
        const m = await s.meta.mailboxes.append(f.id, { blobId: x.id, size: x.size, internalDate: 1 });
        const qid = newQueueId();
        await s.meta.queue.enqueue(
          { id: qid, blobId: x.id, size: x.size, sender: '', receivedAt: 1, source: 'mx', clientAddress: '127.0.0.1', authUser: null, meta: {} },
          [{ address: 'r@remote.test', transport: 'remote' }],
        );
        expect(await s.meta.integrity.isDamaged(x.id)).toBe(false);
        await s.meta.integrity.markDamaged(x.id, 'block 2: bad', 7);
        await s.meta.integrity.markDamaged(x.id, 'block 3: bad', 8); // a second finding updates the first
        expect(await s.meta.integrity.isDamaged(x.id)).toBe(true);
        expect(await s.meta.integrity.listDamaged()).toEqual([{ blobId: x.id, reason: 'block 3: bad', at: 8 }]);
        expect(await s.meta.integrity.damagedMessages()).toEqual([
          { blobId: x.id, folderId: f.id, uid: m.uid, queueId: null },
          { blobId: x.id, folderId: null, uid: null, queueId: qid },
        ]);
        expect(await s.meta.integrity.clearDamaged(x.id)).toBe(true);
        expect(await s.meta.integrity.clearDamaged(x.id)).toBe(false);
        expect(await s.meta.integrity.damagedMessages()).toEqual([]);
      });

      it('checks sound metadata clean and writes a backup snapshot', async () => {
        expect(await s.meta.integrity.checkMetadata('quick')).toEqual([]);
        expect(await s.meta.integrity.checkMetadata('full')).toEqual([]);
        await addUser();
        const file = path.join(mkdtempSync(path.join(tmpdir(), 'postern-snap-')), 'snap');
        await s.meta.integrity.backupTo(file);
        expect(statSync(file).size).toBeGreaterThan(0);
      });

      it('hands out raw containers and takes back only ones that verify', async () => {
        const data = Buffer.from('Subject: raw\r\n\r\n' + 'body line\r\n'.repeat(1000));
        const { id } = await s.blobs.put(data);
        const container = await s.blobs.readContainer(id);
        expect(await s.blobs.storedSize(id)).toBe(container.length);
        expect(container.length).toBeGreaterThan(data.length);
        await s.blobs.delete(id);
        expect(await s.blobs.storedSize(id)).toBeNull();
        await expect(s.blobs.readContainer(id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
        const twoFlips = Buffer.from(container);
        twoFlips[container.length - 100]! ^= 0x11;
        await expect(s.blobs.writeContainer(id, twoFlips)).rejects.toMatchObject({ code: 'INTEGRITY' });
        const other = await s.blobs.put(Buffer.from('another'));
        await expect(s.blobs.writeContainer(id, await s.blobs.readContainer(other.id))).rejects.toMatchObject({ code: 'INTEGRITY' });
        expect(await s.blobs.has(id)).toBe(false);
        await s.blobs.writeContainer(id, container);
        expect(Buffer.from(await s.blobs.get(id)).equals(data)).toBe(true);
      });
    });
  });
}
