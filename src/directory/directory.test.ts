import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore, type Store } from '../store/index.js';
import { Directory } from './directory.js';

let store: Store;
beforeAll(async () => {
  store = await openStore({ backend: 'sqlite', dataDir: mkdtempSync(path.join(tmpdir(), 'postern-directory-')) });
  const d = store.meta.directory;
  await d.addDomain('example.test', 1);
  await d.addDomain('other.test', 1);
  await d.addAccount({ address: 'user@example.test', passwordHash: 'x' }, 1);
  await d.addAccount({ address: 'old-admin@example.test', passwordHash: 'x', roles: ['mailadmin'] }, 1);
  await d.addAccount({ address: 'admin@other.test', passwordHash: 'x', roles: ['user', 'mailadmin'] }, 1);
  await d.setDisabled('old-admin@example.test', true);
  await d.addAlias('ops@example.test', 'user@example.test');
  await d.addAlias('ops@example.test', 'oncall@remote.test');
});
afterAll(async () => {
  await store?.close();
});

const reached = async (dir: Directory, address: string) => {
  const r = await dir.expandRecipient(address);
  return r && [...r.local.map((a) => a.address), ...r.remote].sort();
};

describe('required addresses', () => {
  it('postmaster@, abuse@ and the report addresses of every local domain reach the first enabled mailadmin, in any case', async () => {
    const dir = new Directory(store.meta.directory);
    for (const a of ['postmaster@example.test', 'PostMaster@Example.TEST', 'abuse@other.test', 'dmarc-reports@example.test', 'TLS-Reports@other.test']) {
      expect(await reached(dir, a), a).toEqual(['admin@other.test']);
    }
  });

  it('exist only at local domains, and only the required local parts', async () => {
    const dir = new Directory(store.meta.directory);
    expect(await dir.expandRecipient('postmaster@remote.test')).toBeNull();
    expect(await dir.expandRecipient('hostmaster@example.test')).toBeNull();
    expect(await dir.expandRecipient('postmaster')).toBeNull();
  });

  it('go to the configured postmaster, an account or an alias with its remote targets', async () => {
    expect(await reached(new Directory(store.meta.directory, { postmaster: 'User@example.test' }), 'abuse@example.test')).toEqual(['user@example.test']);
    expect(await reached(new Directory(store.meta.directory, { postmaster: 'ops@example.test' }), 'postmaster@other.test')).toEqual(['oncall@remote.test', 'user@example.test']);
  });

  it('reach nobody when the configured postmaster does not exist, and the start check can tell', async () => {
    const dir = new Directory(store.meta.directory, { postmaster: 'gone@example.test' });
    expect(await dir.postmasterTarget()).toBeNull();
    expect(await dir.expandRecipient('postmaster@example.test')).toBeNull();
  });

  it('an explicit alias or account of the same name wins', async () => {
    await store.meta.directory.addAlias('abuse@other.test', 'user@example.test');
    const dir = new Directory(store.meta.directory);
    expect(await reached(dir, 'abuse@other.test')).toEqual(['user@example.test']);
    expect(await reached(dir, 'abuse@example.test')).toEqual(['admin@other.test']);
  });

  it('the list of local parts is the caller\'s (a configured DMARC report address)', async () => {
    const dir = new Directory(store.meta.directory, { requiredLocalParts: ['postmaster', 'rua'] });
    expect(await reached(dir, 'rua@example.test')).toEqual(['admin@other.test']);
    expect(await dir.expandRecipient('abuse@example.test')).toBeNull();
  });
});

describe('no mailadmin at all', () => {
  it('the required addresses reach nobody and postmasterTarget says so', async () => {
    const s = await openStore({ backend: 'sqlite', dataDir: mkdtempSync(path.join(tmpdir(), 'postern-directory-')) });
    try {
      await s.meta.directory.addDomain('example.test', 1);
      await s.meta.directory.addAccount({ address: 'user@example.test', passwordHash: 'x' }, 1);
      const dir = new Directory(s.meta.directory);
      expect(await dir.postmasterTarget()).toBeNull();
      expect(await dir.expandRecipient('postmaster@example.test')).toBeNull();
    } finally {
      await s.close();
    }
  });
});
