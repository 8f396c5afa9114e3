/** The login cache: only the exact facts of a recent success hit; the directory re-reads the account on every login. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { hashPassword } from '../crypto/password.js';
import { SqliteMetaStore } from '../store/backends/sqlite/index.js';
import { Directory } from './directory.js';
import { LoginCache } from './login-cache.js';

const facts = { accountId: 7, passwordHash: '$scrypt$x', client: '192.0.2.1', password: 'secret' };

describe('LoginCache', () => {
  it('hits only the same account, stored hash, client and password, within its time to live', () => {
    const clock = new ManualClock(1000);
    const cache = new LoginCache({ ttlMs: 60_000, maxEntries: 10 }, clock);
    expect(cache.has(facts)).toBe(false);
    cache.remember(facts);
    expect(cache.has(facts)).toBe(true);
    expect(cache.has({ ...facts, password: 'Secret' })).toBe(false);
    expect(cache.has({ ...facts, client: '192.0.2.2' })).toBe(false);
    expect(cache.has({ ...facts, passwordHash: '$scrypt$y' })).toBe(false);
    expect(cache.has({ ...facts, accountId: 8 })).toBe(false);
    // Parts cannot be shifted into each other.
    expect(cache.has({ ...facts, client: '192.0.2.1secret', password: '' })).toBe(false);
    clock.advance(59_999);
    expect(cache.has(facts)).toBe(true);
    clock.advance(1);
    expect(cache.has(facts)).toBe(false);
    expect(cache.size).toBe(0);
  });

  it('keeps at most maxEntries, dropping the oldest', () => {
    const cache = new LoginCache({ ttlMs: 60_000, maxEntries: 3 }, new ManualClock());
    for (let i = 0; i < 5; i++) cache.remember({ ...facts, accountId: i });
    expect(cache.size).toBe(3);
    expect(cache.has({ ...facts, accountId: 1 })).toBe(false);
    expect(cache.has({ ...facts, accountId: 4 })).toBe(true);
    cache.clear();
    expect(cache.size).toBe(0);
  });
});

describe('Directory.authenticate with the login cache', () => {
  let dir: string;
  let meta: SqliteMetaStore;
  const cache = new LoginCache();
  let directory: Directory;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'postern-dir-'));
    meta = SqliteMetaStore.open(path.join(dir, 'meta.sqlite'));
    await meta.directory.addDomain('example.test', 0);
    await meta.directory.addAccount({ address: 'bob@example.test', passwordHash: await hashPassword('first'), quotaBytes: null }, 0);
    directory = new Directory(meta.directory, { loginCache: cache });
  });
  afterAll(async () => {
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('remembers a success by client, never a failure, and drops it when the password or the account changes', async () => {
    expect(await directory.authenticate('bob@example.test', 'wrong', '192.0.2.1')).toBeNull();
    expect(cache.size).toBe(0);
    expect(await directory.authenticate('bob@example.test', 'first')).not.toBeNull();
    expect(cache.size).toBe(0); // no client address: nothing remembered
    expect((await directory.authenticate('bob@example.test', 'first', '192.0.2.1'))?.address).toBe('bob@example.test');
    expect(cache.size).toBe(1);
    expect((await directory.authenticate('bob@example.test', 'first', '192.0.2.1'))?.address).toBe('bob@example.test');
    expect(await directory.authenticate('bob@example.test', 'wrong', '192.0.2.1')).toBeNull();

    // Disabled by another process (the CLI writes the store directly): the fresh account read refuses the hit.
    await meta.directory.setDisabled('bob@example.test', true);
    expect(await directory.authenticate('bob@example.test', 'first', '192.0.2.1')).toBeNull();
    await meta.directory.setDisabled('bob@example.test', false);

    // A new password set by another process: the old one no longer matches the stored hash.
    await meta.directory.setPasswordHash('bob@example.test', await hashPassword('second'));
    expect(await directory.authenticate('bob@example.test', 'first', '192.0.2.1')).toBeNull();
    expect(await directory.authenticate('bob@example.test', 'second', '192.0.2.1')).not.toBeNull();
    // A new password set through this directory forgets every success at once.
    await directory.setPassword('bob@example.test', 'third password here');
    expect(cache.size).toBe(0);
  });
});
