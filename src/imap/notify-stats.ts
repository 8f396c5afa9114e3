/**
 * Folder figures for NOTIFY's STATUS, shared by every session of the
 * process: when mail arrives in a folder that 50 sessions watch, the store
 * counts its messages once, not 50 times. Every change to a folder raises
 * its HIGHESTMODSEQ (CONDSTORE), so figures stored under a modseq stay true
 * for it; a folder whose modseq moved on is counted again.
 */
import type { MailboxNotifier } from '../mailbox/notify.js';
import type { Folder, FolderStats, MailboxRepo } from '../store/types.js';

/** Folders remembered per process; the oldest is dropped past it. */
const MAX_ENTRIES = 10_000;

interface Entry {
  readonly modseq: number;
  readonly stats: Promise<FolderStats>;
}

const byNotifier = new WeakMap<MailboxNotifier, Map<number, Entry>>();

export function folderStatsAt(notifier: MailboxNotifier, repo: MailboxRepo, folder: Folder): Promise<FolderStats> {
  let cache = byNotifier.get(notifier);
  if (!cache) byNotifier.set(notifier, (cache = new Map()));
  const hit = cache.get(folder.id);
  if (hit && hit.modseq === folder.highestModseq) return hit.stats;
  const stats = repo.folderStats(folder.id);
  cache.delete(folder.id);
  cache.set(folder.id, { modseq: folder.highestModseq, stats });
  // A failed count is not kept: the next session asks the store again.
  stats.catch(() => {
    if (cache.get(folder.id)?.stats === stats) cache.delete(folder.id);
  });
  if (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value!);
  return stats;
}
