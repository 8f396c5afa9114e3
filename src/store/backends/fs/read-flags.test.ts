/** O_NOATIME is the owner's to ask for: a reader that does not own a file still reads it (run as root, reading as nobody). */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { compiledPath } from '../../../core/compiled.js';

const dir = mkdtempSync(path.join(tmpdir(), 'postern-read-flags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('opening blob files for reading', () => {
  const built = compiledPath(path.join(import.meta.dirname, 'read-flags.ts'))?.replace(/\.ts$/, '.js');
  it.skipIf(process.getuid?.() !== 0 || !built)('a reader that does not own the file is refused O_NOATIME and reads it plainly, sync and async', () => {
    chmodSync(dir, 0o755);
    const file = path.join(dir, 'owned-by-root');
    writeFileSync(file, 'hello', { mode: 0o644 });
    // Each way first in a process of its own: after one refusal a process opens plainly.
    const script = `
      import { openForReadSync, readWholeFile } from ${JSON.stringify(pathToFileURL(built!).href)};
      import { readSync, closeSync } from 'node:fs';
      if (process.argv[2] === 'sync') {
        const b = Buffer.alloc(5);
        const fd = openForReadSync(process.argv[1]);
        readSync(fd, b, 0, 5, 0);
        closeSync(fd);
        console.log(b.toString());
      } else console.log((await readWholeFile(process.argv[1])).toString());`;
    for (const way of ['sync', 'async']) {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, file, way], { uid: 65534, gid: 65534, encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe('hello');
    }
  });
});
