/**
 * Where the compiled blob thread is. A worker thread runs JavaScript only:
 * built, this module sits beside `blob-thread.js`; under vitest it is loaded
 * from `src/…/*.ts`, so the path maps from src/ to dist/ (tests run after
 * `npm run build`). Null when the file is missing: callers then work without
 * the thread, exactly as before it existed.
 */
import { existsSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compiledPath } from '../../../core/compiled.js';

export function blobThreadFileFor(moduleUrl: string): string | null {
  const here = fileURLToPath(moduleUrl);
  if (!here.endsWith('.ts')) return fileURLToPath(new URL('./blob-thread.js', moduleUrl));
  const built = compiledPath(path.dirname(here));
  return built === null ? null : path.join(built, 'blob-thread.js');
}

/** A module a thread is to import, as a thread can load it (built JavaScript), or null when it was not built. */
export function threadModuleUrl(url: URL): URL | null {
  if (url.protocol !== 'file:') return url;
  const file = fileURLToPath(url);
  const built = file.endsWith('.ts') ? compiledPath(file)?.replace(/\.ts$/, '.js') : file;
  return built && existsSync(built) ? pathToFileURL(built) : null;
}

let cached: URL | null | undefined;

/** The thread's file URL, or null when it was not built. */
export function blobThreadUrl(): URL | null {
  if (cached === undefined) {
    const file = blobThreadFileFor(import.meta.url);
    cached = file && existsSync(file) ? pathToFileURL(file) : null;
  }
  return cached;
}

/** How long a thread asked to end may take before it is terminated. */
const END_GRACE_MS = 5000;

/**
 * Ends a blob thread by asking it to: it exits when it reads the message,
 * which is after its modules have loaded. Terminating a worker that is still
 * loading its ES modules can abort the whole process on Node 20, and a
 * thread started just before a store closes is often in that state. Only a
 * thread that has not gone within END_GRACE_MS is terminated. `exited`
 * settles when the thread's 'exit' event fired (whenever that was).
 */
export function endThread(worker: Worker, exited: Promise<number>): Promise<number> {
  worker.postMessage({ op: 'close' });
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<number>((resolve) => {
    timer = setTimeout(() => resolve(worker.terminate()), END_GRACE_MS);
  });
  return Promise.race([exited, late]).finally(() => clearTimeout(timer));
}
