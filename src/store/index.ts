import path from 'node:path';
import { promises as fsp } from 'node:fs';
import type { Store } from './types.js';
import { PosternError } from '../core/errors.js';
import { SqliteMetaStore } from './backends/sqlite/index.js';
import { FsBlobStore } from './backends/fs/blobs.js';
import { openPgStore } from './backends/postgres/index.js';
import { withEventFeed, type FedStore } from './event-feed.js';

export * from './types.js';
export type { FedStore } from './event-feed.js';
export type { EventFeed, RecordedEvent } from '../metrics/feed.js';
export { writeFileDurable, syncDir } from './backends/fs/blobs.js';

export interface StoreOptions {
  backend: 'sqlite' | 'postgres';
  dataDir: string;
  url?: string;
}

/**
 * Opens the configured backend: metadata and blobs under one data folder
 * (sqlite), or both in one PostgreSQL database that several nodes share.
 */
export async function openStore(opts: StoreOptions): Promise<FedStore> {
  if (opts.backend === 'postgres') {
    if (!opts.url) throw new PosternError('CONFIG_INVALID', 'store.url is required when store.backend = "postgres"');
    return reportIntegrity(await openPgStore({ url: opts.url }));
  }
  if (opts.backend !== 'sqlite') {
    throw new Error(`store backend ${opts.backend as string} is not available in this build; use "sqlite" or "postgres"`);
  }
  await fsp.mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  const meta = SqliteMetaStore.open(path.join(opts.dataDir, 'meta.sqlite'));
  const blobs = await FsBlobStore.open(path.join(opts.dataDir, 'blobs'));
  return reportIntegrity({
    meta,
    blobs,
    async close() {
      await blobs.close();
      await meta.close();
    },
  });
}

/** Every integrity finding lands in the event log, whoever made the read. */
function reportIntegrity(plain: Store): FedStore {
  const store = withEventFeed(plain);
  store.blobs.onIntegrity((e) => {
    const { kind, blobId, ...data } = e;
    void store.meta.events.record(`integrity.${kind}`, `blob:${blobId}`, data, Date.now()).catch(() => undefined);
  });
  return store;
}
