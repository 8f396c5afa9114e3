import path from 'node:path';

/**
 * Where the build puts a source file: the same path with its last `src`
 * folder replaced by `dist` (the extension is the caller's to change); null
 * when the path has no `src` folder. Worker threads run built JavaScript
 * only, while vitest loads modules from src/: this is how a module finds the
 * built file a thread is to load. Pure: it does not look at the disk.
 */
export function compiledPath(file: string): string | null {
  const parts = file.split(path.sep);
  const src = parts.lastIndexOf('src');
  if (src < 0) return null;
  parts[src] = 'dist';
  return parts.join(path.sep);
}
