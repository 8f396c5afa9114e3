import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../store/index.js';
import type { Store } from '../store/types.js';
import { SqliteMetaStore } from '../store/backends/sqlite/index.js';
import { canonicalJson, nextRecord, type AuditRecord } from '../crypto/hashchain.js';
import { checkpoint, recordAudit, verifyAuditLog } from './audit-log.js';

const keys = () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { priv: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, pub: publicKey.export({ type: 'spki', format: 'pem' }) as string };
};

describe('audit log service', () => {
  let s: Store;
  let db: SqliteMetaStore['db'];
  beforeEach(async () => {
    s = await openStore({ backend: 'sqlite', dataDir: mkdtempSync(path.join(tmpdir(), 'postern-audit-')) });
    if (!(s.meta instanceof SqliteMetaStore)) throw new Error('not sqlite');
    db = s.meta.db;
  });
  afterEach(async () => {
    await s.close();
  });
  const fill = async (n: number) => {
    for (let i = 1; i <= n; i++) await recordAudit(s, { actor: 'cli:root', action: 'user.add', subject: `u${i}@example.org`, data: { roles: ['user'] } }, 1000 + i);
  };

  it('verifies an intact log with a signed checkpoint, across pages', async () => {
    await fill(1203);
    const k = keys();
    const cp = await checkpoint(s, k.priv, 5000);
    expect(cp).toMatchObject({ ok: true, checkpoint: { seq: 1203 } });
    await fill(3);
    const v = await verifyAuditLog(s, k.pub);
    expect(v).toMatchObject({ ok: true, records: 1206, checkpoints: 1, signedCheckpoints: 1, badCheckpoints: [] });
  });

  it('refuses to sign an empty or a broken log', async () => {
    const k = keys();
    expect(await checkpoint(s, k.priv, 1)).toMatchObject({ ok: false });
    await fill(3);
    db.prepare("UPDATE audit_log SET subject = 'x' WHERE seq = 2").run();
    expect(await checkpoint(s, k.priv, 1)).toMatchObject({ ok: false, error: expect.stringContaining('record 2') });
    expect(await s.meta.audit.listCheckpoints()).toEqual([]);
  });

  it('catches a tail rebuilt after an edit before the last checkpoint', async () => {
    await fill(5);
    const k = keys();
    expect((await checkpoint(s, k.priv, 9000)).ok).toBe(true);
    // Someone with write access edits record 2 and recomputes every hash after it.
    const rows: AuditRecord[] = [];
    for await (const r of s.meta.audit.all()) rows.push(r);
    let prev: AuditRecord | null = null;
    for (const r of rows) {
      const edited = r.seq === 2 ? { ...r, subject: 'someone-else@example.org' } : r;
      const n = nextRecord(prev, edited);
      db.prepare('UPDATE audit_log SET subject = ?, data = ?, prev_hash = ?, hash = ? WHERE seq = ?').run(n.subject, canonicalJson(n.data), n.prevHash, n.hash, n.seq);
      prev = n;
    }
    const v = await verifyAuditLog(s, k.pub);
    expect(v.ok).toBe(false);
    expect(v.firstBad).toMatchObject({ seq: 5, reason: expect.stringContaining('checkpoint hash does not match') });
  });

  it('catches a forged checkpoint and a deleted tail', async () => {
    await fill(4);
    const auditor = keys();
    const forger = keys();
    expect((await checkpoint(s, forger.priv, 1)).ok).toBe(true);
    expect(await verifyAuditLog(s, auditor.pub)).toMatchObject({ ok: false, firstBad: { seq: 4, reason: expect.stringContaining('signature') } });
    expect(await verifyAuditLog(s)).toMatchObject({ ok: true });
    db.prepare('DELETE FROM audit_log WHERE seq >= 3').run();
    expect(await verifyAuditLog(s)).toMatchObject({ ok: false, firstBad: { seq: 4, reason: expect.stringContaining('records deleted') } });
  });

  it('names the first bad record of an edited log', async () => {
    await fill(20);
    db.prepare(`UPDATE audit_log SET data = '{"roles":["admin"]}' WHERE seq = 17`).run();
    expect(await verifyAuditLog(s)).toMatchObject({ ok: false, records: 17, firstBad: { seq: 17, reason: 'hash does not match (edited)' } });
  });
});
