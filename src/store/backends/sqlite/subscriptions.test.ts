/** The migration that moved IMAP subscriptions out of folders keeps what each folder had. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../index.js';
import { SqliteMetaStore } from './index.js';
import { MIGRATIONS } from './schema.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('subscriptions migration', () => {
  it('subscribes exactly the folders that were subscribed before it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'postern-subs-'));
    dirs.push(dir);
    let s = await openStore({ backend: 'sqlite', dataDir: dir });
    await s.meta.directory.addDomain('example.org', 1);
    const a = await s.meta.directory.addAccount({ address: 'alice@example.org', passwordHash: '$scrypt$x' }, 1);
    for (const name of ['INBOX', 'Kept', 'Dropped', 'Kept/Child']) await s.meta.mailboxes.createFolder(a.id, name, null, 1);
    if (!(s.meta instanceof SqliteMetaStore)) throw new Error('not a SQLite store');
    // The database as the previous version left it: the flag on the folder row, no table.
    s.meta.db.exec(`DROP TABLE subscriptions; UPDATE folders SET subscribed = (name <> 'Dropped');`);
    // Later migrations run again after it; each of them may be applied twice.
    s.meta.db.pragma(`user_version = ${MIGRATIONS.findIndex((m) => m.includes('CREATE TABLE subscriptions'))}`);
    await s.close();
    s = await openStore({ backend: 'sqlite', dataDir: dir });
    try {
      expect(await s.meta.mailboxes.listSubscriptions(a.id)).toEqual(['INBOX', 'Kept', 'Kept/Child']);
    } finally {
      await s.close();
    }
  });
});
