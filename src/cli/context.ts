import { loadConfig, formatConfigErrors, type Config } from '../config/index.js';
import { openStore, type FedStore, type Store } from '../store/index.js';

/** Reported to the user as a one-line error with exit code 2; never a stack trace. */
export class UsageError extends Error {}

export function resolveConfigPath(opt: string | undefined): string {
  return opt ?? process.env.POSTERN_CONFIG ?? 'postern.toml';
}

export function readConfig(path: string): Config {
  const r = loadConfig(path);
  if (!r.ok) throw new UsageError(`configuration is invalid:\n${formatConfigErrors(path, r.errors)}`);
  return r.config;
}

export async function openConfiguredStore(config: Config): Promise<FedStore> {
  return openStore({
    backend: config.store.backend,
    dataDir: config.server.data_dir,
    url: config.store.url,
    readCacheBytes: config.store.read_cache_mb * 1024 * 1024,
    inlineBlobBytes: config.store.inline_blob_kb * 1024,
  });
}

/** Opens the store for one admin command and always closes it. */
export async function withStore<T>(configPath: string, fn: (store: Store, config: Config) => Promise<T>): Promise<T> {
  const config = readConfig(configPath);
  const store = await openConfiguredStore(config);
  try {
    return await fn(store, config);
  } finally {
    await store.close();
  }
}
