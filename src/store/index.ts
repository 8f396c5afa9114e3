import path from 'node:path';
import { promises as fsp } from 'node:fs';
import type { Store } from './types.js';
import { SqliteMetaStore } from './backends/sqlite/index.js';
import { FsBlobStore } from './backends/fs/blobs.js';

export * from './types.js';
export { writeFileDurable, syncDir } from './backends/fs/blobs.js';

export interface StoreOptions {
  backend: 'sqlite' | 'postgres';
  dataDir: string;
  url?: string;
}

/** Opens the configured backend: metadata and blobs under one data folder. */
export async function openStore(opts: StoreOptions): Promise<Store> {
  if (opts.backend !== 'sqlite') {
    throw new Error(`store backend ${opts.backend} is not available in this build; use "sqlite"`);
  }
  await fsp.mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  const meta = SqliteMetaStore.open(path.join(opts.dataDir, 'meta.sqlite'));
  const blobs = await FsBlobStore.open(path.join(opts.dataDir, 'blobs'));
  // Every integrity finding lands in the event log, whoever made the read.
  blobs.onIntegrity((e) => {
    const { kind, blobId, ...data } = e;
    void meta.events.record(`integrity.${kind}`, `blob:${blobId}`, data, Date.now()).catch(() => undefined);
  });
  return {
    meta,
    blobs,
    async close() {
      await blobs.close();
      await meta.close();
    },
  };
}
