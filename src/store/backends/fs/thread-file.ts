/**
 * Where the compiled blob thread is. A worker thread runs JavaScript only:
 * built, this module sits beside `blob-thread.js`; under vitest it is loaded
 * from `src/…/*.ts`, so the path maps from src/ to dist/ (tests run after
 * `npm run build`). Null when the file is missing: callers then work without
 * the thread, exactly as before it existed.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export function blobThreadFileFor(moduleUrl: string): string | null {
  const here = fileURLToPath(moduleUrl);
  if (!here.endsWith('.ts')) return fileURLToPath(new URL('./blob-thread.js', moduleUrl));
  const parts = path.dirname(here).split(path.sep);
  const src = parts.lastIndexOf('src');
  if (src < 0) return null;
  parts[src] = 'dist';
  return path.join(parts.join(path.sep), 'blob-thread.js');
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
