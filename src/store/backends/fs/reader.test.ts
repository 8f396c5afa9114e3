/** Blob files read on reader threads: the same bytes as a plain read, errors with their codes, and reads after close. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { pathToFileURL } from 'node:url';
import { BlobFileReader } from './reader.js';
import { BlobWriter } from './writer.js';
import { encodeBlob } from '../../../crypto/blockcodec.js';
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

/** Waits until `ok()` holds, up to 5 s. */
async function until(ok: () => boolean): Promise<boolean> {
  for (let i = 0; i < 100 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
  return ok();
}

describe('blob threads kept warm', () => {
  it('readers: started at once and kept when idle; without it they end once idle', async () => {
    const file = path.join(dir, 'warm');
    writeFileSync(file, 'w');
    const cold = new BlobFileReader(50);
    const warm = new BlobFileReader(50);
    warm.keepWarm();
    expect([cold.threadCount, warm.threadCount]).toEqual([0, 2]);
    expect((await cold.read(file)).toString()).toBe('w');
    expect((await warm.read(file)).toString()).toBe('w');
    expect(cold.threadCount).toBe(1);
    expect(await until(() => cold.threadCount === 0)).toBe(true);
    // Far past the idle time, the warm threads still serve.
    expect(warm.threadCount).toBe(2);
    expect((await warm.read(file)).toString()).toBe('w');
    await Promise.all([cold.close(), warm.close()]);
    expect(warm.threadCount).toBe(0);
  });

  it('writers: started at once and kept when idle; without it they end once idle', async () => {
    const job = (name: string) => {
      const data = Buffer.from(`blob ${name}`);
      const blobId = createHash('sha256').update(data).digest('hex');
      return { file: path.join(dir, blobId), blobId, container: encodeBlob(data), replace: false };
    };
    const cold = new BlobWriter(2, 50);
    const warm = new BlobWriter(2, 50);
    warm.keepWarm();
    expect([cold.running, warm.running]).toEqual([0, 2]);
    expect(await cold.write(job('a'))).toBe('stored');
    expect(cold.running).toBe(1);
    expect(await until(() => cold.running === 0)).toBe(true);
    expect(await warm.write(job('b'))).toBe('stored');
    await new Promise((r) => setTimeout(r, 300));
    expect(warm.running).toBe(2);
    expect(await warm.write(job('c'))).toBe('stored');
    await Promise.all([cold.close(), warm.close()]);
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
