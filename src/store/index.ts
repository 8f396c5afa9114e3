import path from 'node:path';
import { promises as fsp } from 'node:fs';
import type { Store } from './types.js';
import { PosternError } from '../core/errors.js';
import { SqliteMetaStore } from './backends/sqlite/index.js';
import { FsBlobStore } from './backends/fs/blobs.js';
import { SqliteBlobs } from './backends/sqlite/blobs.js';
import { SplitBlobStore } from './split-blobs.js';
import { openPgStore } from './backends/postgres/index.js';
import { withEventFeed, type FedStore } from './event-feed.js';
import { cachingBlobs } from './blob-cache.js';

export * from './types.js';
export type { FedStore } from './event-feed.js';
export type { EventFeed, RecordedEvent } from '../metrics/feed.js';
export { writeFileDurable, syncDir } from './backends/fs/blobs.js';

export interface StoreOptions {
  backend: 'sqlite' | 'postgres';
  dataDir: string;
  url?: string;
  /** Bytes of recently written and read blobs kept in memory (blob-cache.ts); 0 or absent: none. */
  readCacheBytes?: number;
  /** sqlite: blobs of at most this many bytes are kept in the database (split-blobs.ts); 0 or absent: none. */
  inlineBlobBytes?: number;
}

/**
 * Opens the configured backend: metadata and blobs under one data folder
 * (sqlite), or both in one PostgreSQL database that several nodes share.
 */
export async function openStore(opts: StoreOptions): Promise<FedStore> {
  if (opts.backend === 'postgres') {
    if (!opts.url) throw new PosternError('CONFIG_INVALID', 'store.url is required when store.backend = "postgres"');
    return reportIntegrity(withReadCache(await openPgStore({ url: opts.url }), opts.readCacheBytes ?? 0));
  }
  if (opts.backend !== 'sqlite') {
    throw new Error(`store backend ${opts.backend as string} is not available in this build; use "sqlite" or "postgres"`);
  }
  await fsp.mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  const meta = SqliteMetaStore.open(path.join(opts.dataDir, 'meta.sqlite'));
  // Blobs already in the database stay readable whatever the setting: it decides where new ones go.
  const files = await FsBlobStore.open(path.join(opts.dataDir, 'blobs'));
  const blobs = new SplitBlobStore(new SqliteBlobs(meta.db), files, opts.inlineBlobBytes ?? 0, { reader: files.readers, dbFile: meta.db.name });
  return reportIntegrity(
    withReadCache(
      {
        meta,
        blobs,
        async close() {
          await blobs.close();
          await meta.close();
        },
      },
      opts.readCacheBytes ?? 0,
    ),
  );
}

/** The store with its blobs behind a read cache (none for 0 bytes); closing it closes the store as before. */
function withReadCache(store: Store, bytes: number): Store {
  return { meta: store.meta, blobs: cachingBlobs(store.blobs, bytes), close: () => store.close() };
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
