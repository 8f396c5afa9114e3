/** Blob files read on reader threads: the same bytes as a plain read, errors with their codes, and reads after close. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { pathToFileURL } from 'node:url';
import { BlobFileReader } from './reader.js';
import { blobThreadFileFor, blobThreadUrl } from './thread-file.js';

const dir = mkdtempSync(path.join(tmpdir(), 'postern-reader-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('blob file reader', () => {
  it('reads many files asked for together, each exactly', async () => {
    const reader = new BlobFileReader();
    const files = Array.from({ length: 600 }, (_, i) => {
      const data = randomBytes(i * 37);
      const file = path.join(dir, `f${i}`);
      writeFileSync(file, data);
      return { file, data };
    });
    const got = await Promise.all(files.map((f) => reader.read(f.file)));
    got.forEach((b, i) => expect(b.equals(files[i]!.data)).toBe(true));
    await reader.close();
  });

  it('fails a missing file with ENOENT, without failing the others of its batch', async () => {
    const reader = new BlobFileReader();
    writeFileSync(path.join(dir, 'there'), 'x');
    const [missing, there] = await Promise.allSettled([reader.read(path.join(dir, 'gone')), reader.read(path.join(dir, 'there'))]);
    expect(missing.status === 'rejected' && (missing.reason as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect(there.status === 'fulfilled' && there.value.toString()).toBe('x');
    await reader.close();
    // After close, reads still work (without threads).
    expect((await reader.read(path.join(dir, 'there'))).toString()).toBe('x');
  });
});

describe('blob thread file', () => {
  it('maps a source module to the compiled thread, a built one to its neighbour, and finds it after a build', () => {
    const root = '/srv/postern';
    expect(blobThreadFileFor(pathToFileURL(path.join(root, 'src/store/backends/fs/reader.ts')).href)).toBe(path.join(root, 'dist/store/backends/fs/blob-thread.js'));
    expect(blobThreadFileFor(pathToFileURL(path.join(root, 'dist/store/backends/fs/reader.js')).href)).toBe(path.join(root, 'dist/store/backends/fs/blob-thread.js'));
    expect(blobThreadFileFor(pathToFileURL('/elsewhere/reader.ts').href)).toBeNull();
    // The tests run after `npm run build`: the verified paths are the ones under test.
    expect(blobThreadUrl()?.pathname).toMatch(/\/dist\/store\/backends\/fs\/blob-thread\.js$/);
  });
});
