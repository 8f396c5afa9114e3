/**
 * A damaged metadata file met by the real CLI (`node dist/cli/main.js`):
 * page 1 (the header), an interior b-tree page of `messages`, and one row of
 * `messages` that no longer agrees with its index. Every command says what
 * is damaged and what to do, exits non-zero, and prints no stack trace; the
 * default scrub (not only --full) finds the damaged row. Each case damages a
 * copy of one installation's data folder. Needs `npm run build`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { cpSync, openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';
import { cli, makeInstallation, type Installation } from '../process/postern-process.js';
import { openStore } from '../../src/store/index.js';

const PAGE = 4096;
let inst: Installation;
let pristine: string;
let blobA: string;
let blobB: string;

/** No stack trace and no bare driver error reach the operator. */
function expectPlain(out: string): void {
  expect(out).not.toMatch(/^\s+at /m);
  expect(out).not.toMatch(/SqliteError|node:internal/);
}

function expectDamageMessage(r: { status: number | null; stdout: string; stderr: string }): void {
  expect(r.status).not.toBe(0);
  expect(r.stderr).toMatch(/the metadata database .*meta\.sqlite is damaged \(SQLITE_(CORRUPT|NOTADB)/);
  expect(r.stderr).toContain('postern restore');
  expectPlain(r.stdout + r.stderr);
}

/** Restores the pristine data folder, then lets `damage` change meta.sqlite. */
function damaged(damage: (file: string) => void): void {
  const data = path.join(inst.dir, 'data');
  rmSync(data, { recursive: true, force: true });
  cpSync(pristine, data, { recursive: true });
  damage(path.join(data, 'meta.sqlite'));
}

function overwrite(file: string, offset: number, bytes: Buffer): void {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

/** Page numbers (1-based) of one b-tree, by page type, from SQLite's dbstat. */
function pagesOf(file: string, name: string, type: 'internal' | 'leaf'): number[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT pageno FROM dbstat WHERE name = ? AND pagetype = ? ORDER BY pageno').pluck().all(name, type) as number[];
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  inst = await makeInstallation('damage.test', '[integrity]\nscrub_interval = 0\ngc_interval = 0\n');
  expect(cli(inst, ['user', 'add', 'carol@damage.test'], 'a long enough password\n').status).toBe(0);
  const data = path.join(inst.dir, 'data');
  const store = await openStore({ backend: 'sqlite', dataDir: data });
  try {
    const acct = (await store.meta.directory.getAccount('carol@damage.test'))!;
    const inbox = (await store.meta.mailboxes.getFolder(acct.id, 'INBOX'))!;
    const a = await store.blobs.put(Buffer.from('Subject: a\r\n\r\nfirst\r\n'));
    const b = await store.blobs.put(Buffer.from('Subject: b\r\n\r\nsecond\r\n'));
    [blobA, blobB] = [a.id, b.id];
    // Enough rows for a b-tree with interior pages; all share two blobs, so the blob scrub stays clean.
    for (let i = 0; i < 1500; i++) {
      const ref = i % 2 === 0 ? a : b;
      await store.meta.mailboxes.append(inbox.id, { blobId: ref.id, size: ref.size, internalDate: i });
    }
  } finally {
    await store.close(); // checkpoints the WAL into meta.sqlite
  }
  pristine = path.join(inst.dir, 'pristine');
  cpSync(data, pristine, { recursive: true });
  const r = cli(inst, ['scrub']);
  expect(r.status, r.stdout + r.stderr).toBe(0);
});

afterAll(() => inst?.cleanup());

describe('damaged metadata through the CLI', () => {
  it('page 1: start, scrub and scrub --status say what is wrong and exit non-zero', () => {
    damaged((file) => overwrite(file, 0, Buffer.alloc(100, 0x5a)));
    for (const args of [['start'], ['scrub'], ['scrub', '--status'], ['gc']]) {
      const r = cli(inst, args);
      expectDamageMessage(r);
    }
  });

  it('an interior b-tree page of messages: scrub --status and scrub report it without crashing', () => {
    damaged((file) => {
      const [page] = pagesOf(file, 'messages', 'internal');
      expect(page).toBeGreaterThan(1);
      overwrite(file, (page! - 1) * PAGE + 8, Buffer.alloc(PAGE - 8, 0xa7)); // cell pointers and cells
    });
    const status = cli(inst, ['scrub', '--status']);
    expectDamageMessage(status);
    const r = cli(inst, ['scrub']);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/metadata \(quick\)\s+\d+ problem/);
    expect(r.stdout).toContain('postern restore');
    expectPlain(r.stdout + r.stderr);
  });

  it('a damaged row of messages: the default scrub finds it, not only --full', () => {
    damaged((file) => {
      // One row's blob id becomes the other blob's: the row is well-formed, but disagrees with the messages_blob index.
      const bytes = readFileSync(file);
      const [leaf] = pagesOf(file, 'messages', 'leaf');
      const at = bytes.indexOf(Buffer.from(blobA), (leaf! - 1) * PAGE);
      expect(at).toBeGreaterThan(0);
      expect(at).toBeLessThan(leaf! * PAGE);
      overwrite(file, at, Buffer.from(blobB));
      const db = new Database(file, { readonly: true });
      try {
        expect(db.pragma('quick_check', { simple: true })).toBe('ok'); // what the plain scrub used to rely on
      } finally {
        db.close();
      }
    });
    const r = cli(inst, ['scrub']);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/metadata: .*messages_blob/);
    expect(r.stdout).toContain('postern restore');
    expectPlain(r.stdout + r.stderr);
  });
});
