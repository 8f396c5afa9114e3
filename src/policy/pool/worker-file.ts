/**
 * Where the compiled worker is. Threads always run the compiled
 * `dist/policy/pool/worker-entry.cjs` (a worker thread cannot load
 * TypeScript), which loads `worker.js` (see worker-entry.cts for why).
 * Built, this module sits beside it; under vitest it is loaded from
 * `src/policy/pool/*.ts`, so the path maps from src/ to dist/.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compiledPath } from '../../core/compiled.js';

export function workerFileFor(moduleUrl: string): string {
  const here = fileURLToPath(moduleUrl);
  if (!here.endsWith('.ts')) return fileURLToPath(new URL('./worker-entry.cjs', moduleUrl));
  const built = compiledPath(path.dirname(here));
  if (built === null) throw new Error(`policy worker: cannot map ${here} to its compiled file (no src/ folder in its path)`);
  return path.join(built, 'worker-entry.cjs');
}

/** The worker's file URL; throws at start-up when it was not built. */
export function resolveWorkerUrl(moduleUrl: string = import.meta.url): string {
  const file = workerFileFor(moduleUrl);
  if (!existsSync(file)) throw new Error(`policy worker ${file} is missing: run npm run build`);
  return pathToFileURL(file).href;
}
