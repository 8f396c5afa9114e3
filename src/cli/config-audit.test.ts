import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../store/index.js';
import { auditConfigChange } from './config-audit.js';

let dir = '';
let store: Store | null = null;
afterEach(async () => {
  await store?.close();
  store = null;
  rmSync(dir, { recursive: true, force: true });
});

describe('config changes in the audit log', () => {
  it('records the first config and every change, not an unchanged restart', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'postern-cfgaudit-'));
    store = await openStore({ backend: 'sqlite', dataDir: path.join(dir, 'data') });
    const file = path.join(dir, 'postern.toml');
    writeFileSync(file, 'a = 1\n');
    expect(await auditConfigChange(store, file, 'a = 1\n')).toBe(true);
    expect(await auditConfigChange(store, file, 'a = 1\n')).toBe(false);
    writeFileSync(file, 'a = 2\n');
    expect(await auditConfigChange(store, file, 'a = 2\n')).toBe(true);
    const entries = await store.meta.audit.list({ action: 'config.changed' });
    expect(entries).toHaveLength(2);
    expect(entries[1]?.data.previous).toBe(entries[0]?.data.sha256);
    expect(JSON.stringify(entries)).not.toContain('a = 2');
  });
});
