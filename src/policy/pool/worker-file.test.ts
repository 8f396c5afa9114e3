import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resolveWorkerUrl, workerFileFor } from './worker-file.js';

describe('worker file', () => {
  it('maps the source module to the compiled worker, and a compiled module to its neighbour', () => {
    const root = path.resolve('/opt/postern');
    expect(workerFileFor(pathToFileURL(path.join(root, 'src/policy/pool/pool.ts')).href)).toBe(path.join(root, 'dist/policy/pool/worker-entry.cjs'));
    expect(workerFileFor(pathToFileURL(path.join(root, 'dist/policy/pool/pool.js')).href)).toBe(path.join(root, 'dist/policy/pool/worker-entry.cjs'));
  });

  it('says to build when the compiled worker is missing', () => {
    expect(() => resolveWorkerUrl(pathToFileURL('/nonexistent/src/policy/pool/pool.ts').href)).toThrow(/run npm run build/);
  });

  it('finds the built worker of this tree', () => {
    expect(resolveWorkerUrl()).toMatch(/\/dist\/policy\/pool\/worker-entry\.cjs$/);
  });
});
