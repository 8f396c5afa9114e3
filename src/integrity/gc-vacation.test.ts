/** Garbage collection forgets vacation replies older than VACATION_MEMORY_DAYS, and only those. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { openStore } from '../store/index.js';
import { gc, VACATION_MEMORY_DAYS } from './gc.js';

it('prunes old vacation memory, keeps recent, and a dry run removes nothing', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'postern-gc-vacation-'));
  const store = await openStore({ backend: 'sqlite', dataDir: dir });
  try {
    await store.meta.directory.addDomain('example.org', 1);
    const a = await store.meta.directory.addAccount({ address: 'a@example.org', passwordHash: '$scrypt$x', displayName: '' }, 1);
    const now = 1_000 * 86_400_000;
    const clock = new ManualClock(now);
    const old = now - (VACATION_MEMORY_DAYS + 1) * 86_400_000;
    await store.meta.sieve.vacationRemember(a.id, 'old', old);
    await store.meta.sieve.vacationRemember(a.id, 'new', now - 86_400_000);
    await gc(store, { clock, dryRun: true });
    expect(await store.meta.sieve.vacationSeen(a.id, 'old', 0)).toBe(true);
    await gc(store, { clock });
    expect(await store.meta.sieve.vacationSeen(a.id, 'old', 0)).toBe(false);
    expect(await store.meta.sieve.vacationSeen(a.id, 'new', 0)).toBe(true);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
