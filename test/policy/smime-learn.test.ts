/**
 * Learning a valid signer's certificate into a real SQLite store: kept as
 * 'learned' for a correspondent, never for an address of our own domains, an
 * uploaded certificate keeps its source, and a store that refuses is a log
 * line, not an exception.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { createLogger } from '../../src/metrics/logger.js';
import { learnCertificate } from '../../src/policy/smime/index.js';
import { makePki, type Pki } from '../support/smime-pki.js';

let pki: Pki;
let dir: string;
let store: Awaited<ReturnType<typeof openStore>>;
const NOW = Date.UTC(2026, 11, 4);
const log = createLogger('silent');
const derOf = (pem: string) => new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'));
const fp = (der: Uint8Array) => createHash('sha256').update(der).digest('hex');

beforeAll(async () => {
  pki = makePki();
  dir = mkdtempSync(path.join(tmpdir(), 'postern-smime-learn-'));
  store = await openStore({ backend: 'sqlite', dataDir: dir });
}, 60_000);

afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
  pki?.cleanup();
});

describe('learnCertificate', () => {
  it('keeps a correspondent\'s certificate as learned, with its validity, once per fingerprint', async () => {
    const learn = learnCertificate(store, { now: () => NOW }, log, () => new Set(['postern.test']));
    const der = derOf(pki.rsa.certPem);
    await learn('rsa@example.test', der);
    await learn('rsa@example.test', der);
    const kept = await store.meta.certificates.list('rsa@example.test');
    expect(kept.map((c) => [c.source, c.fingerprint, Buffer.from(c.der).equals(Buffer.from(der))])).toEqual([['learned', fp(der), true]]);
    expect(kept[0]!.notAfter).toBeGreaterThan(kept[0]!.notBefore);
    expect((await store.meta.certificates.valid('rsa@example.test', Date.now())).length).toBe(1);
  });

  it('never learns for an address of our own domains', async () => {
    const learn = learnCertificate(store, { now: () => NOW }, log, () => new Set(['example.test']));
    await learn('p256@example.test', derOf(pki.p256.certPem));
    expect(await store.meta.certificates.list('p256@example.test')).toEqual([]);
  });

  it('leaves an uploaded certificate uploaded', async () => {
    const der = derOf(pki.p384.certPem);
    await store.meta.certificates.put({ address: 'p384@example.test', der, fingerprint: fp(der), source: 'uploaded', notBefore: 0, notAfter: NOW * 2 }, NOW);
    await learnCertificate(store, { now: () => NOW + 1000 }, log, () => new Set())('p384@example.test', der);
    expect((await store.meta.certificates.list('p384@example.test')).map((c) => c.source)).toEqual(['uploaded']);
  });

  it('turns a store failure or an unreadable certificate into a log line', async () => {
    const lines: string[] = [];
    const captured = createLogger('warn', { write: (s: string) => void lines.push(s) });
    const broken = { meta: { certificates: { list: async () => { throw new Error('database is locked'); } } } } as unknown as Pick<Store, 'meta'>;
    await expect(learnCertificate(broken, { now: () => NOW }, captured, () => new Set())('a@example.test', derOf(pki.rsa.certPem))).resolves.toBeUndefined();
    await expect(learnCertificate(store, { now: () => NOW }, captured, () => new Set())('a@example.test', new Uint8Array([1, 2, 3]))).resolves.toBeUndefined();
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['S/MIME: a signer certificate could not be kept', 'S/MIME: a signer certificate could not be kept']);
    expect(await store.meta.certificates.list('a@example.test')).toEqual([]);
  });
});
