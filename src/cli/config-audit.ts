import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import path from 'node:path';
import type { Store } from '../store/types.js';
import { audited } from './audit.js';

/**
 * The config is a file an administrator edits outside postern, so postern
 * notices the edit when it starts: a config whose digest differs from the
 * last one recorded is appended to the audit log as `config.changed` (its
 * digest, the previous one, the file's owner and time of change). The
 * content is not copied: it may hold secrets.
 */
export async function auditConfigChange(store: Store, file: string, text: string | Uint8Array): Promise<boolean> {
  const sha256 = createHash('sha256').update(text).digest('hex');
  const seen = await store.meta.audit.list({ action: 'config.changed', limit: 1_000_000 });
  const previous = seen.at(-1)?.data.sha256 ?? null;
  if (previous === sha256) return false;
  const st = statSync(file, { throwIfNoEntry: false });
  await audited(store, 'config.changed', path.resolve(file), { sha256, previous, owner: st?.uid ?? null, modifiedAt: st ? new Date(st.mtimeMs).toISOString() : null }, 'postern:start');
  return true;
}
