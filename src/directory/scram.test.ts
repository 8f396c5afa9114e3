import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../store/index.js';
import { Directory } from './directory.js';

const PASSWORD = 'correct horse battery staple';
let store: Store;
let dir: Directory;
beforeAll(async () => {
  store = await openStore({ backend: 'sqlite', dataDir: mkdtempSync(path.join(tmpdir(), 'postern-scram-')) });
  const d = store.meta.directory;
  await d.addDomain('example.test', 1);
  await d.addAccount({ address: 'user@example.test', passwordHash: 'x' }, 1);
  await d.addAccount({ address: 'legacy@example.test', passwordHash: 'x' }, 1);
  dir = new Directory(d, { scramSecret: randomBytes(32) });
  await dir.setPassword('user@example.test', PASSWORD);
});
afterAll(async () => {
  await store?.close();
});

/** RFC 5802 client side, written here from the RFC. */
function proof(password: string, bare: string, serverFirst: string): string {
  const a = Object.fromEntries(serverFirst.split(',').map((x) => [x[0], x.slice(2)]));
  const salted = pbkdf2Sync(password, Buffer.from(a.s!, 'base64'), Number(a.i), 32, 'sha256');
  const ck = createHmac('sha256', salted).update('Client Key').digest();
  const sk = createHash('sha256').update(ck).digest();
  const head = `c=biws,r=${a.r}`;
  const sig = createHmac('sha256', sk).update(`${bare},${serverFirst},${head}`).digest();
  return `${head},p=${Buffer.from(ck.map((b, i) => b ^ sig[i]!)).toString('base64')}`;
}

async function login(user: string, password: string) {
  const bare = `n=${user},r=nonce${randomBytes(6).toString('hex')}`;
  const start = await dir.scramStart('SCRAM-SHA-256', {}, `n,,${bare}`);
  if (!start.ok) throw new Error('client-first refused');
  const done = await start.finish(proof(password, bare, start.serverFirst));
  return { serverFirst: start.serverFirst, done };
}

describe('Directory.scramStart', () => {
  it('logs in with the keys setPassword stored, and answers v= the client can check', async () => {
    const { done } = await login('user@example.test', PASSWORD);
    expect(done?.account.address).toBe('user@example.test');
    expect(done?.serverFinal).toMatch(/^v=[A-Za-z0-9+/]{43}=$/);
  });

  it('fails a wrong password, an unknown account and an account without keys alike, with the same salt each time', async () => {
    const shape = (sf: string) => sf.replace(/r=[^,]+/, 'r=*').replace(/s=[^,]+/, 's=*');
    const wrong = await login('user@example.test', 'wrong password here');
    const unknown = await login('nobody@example.test', PASSWORD);
    const legacy = await login('legacy@example.test', PASSWORD);
    for (const r of [wrong, unknown, legacy]) {
      expect(r.done).toBeNull();
      expect(shape(r.serverFirst)).toBe('r=*,s=*,i=10000');
    }
    const salt = (sf: string) => /s=([^,]+)/.exec(sf)![1];
    expect(salt((await login('nobody@example.test', 'x')).serverFirst)).toBe(salt(unknown.serverFirst));
    expect(salt(unknown.serverFirst)).not.toBe(salt(legacy.serverFirst));
  });

  it('a disabled account never logs in, and a new password replaces the keys', async () => {
    await store.meta.directory.setDisabled('user@example.test', true);
    expect((await login('user@example.test', PASSWORD)).done).toBeNull();
    await store.meta.directory.setDisabled('user@example.test', false);
    await dir.setPassword('user@example.test', 'another long password');
    expect((await login('user@example.test', PASSWORD)).done).toBeNull();
    expect((await login('user@example.test', 'another long password')).done?.account.address).toBe('user@example.test');
  });
});
