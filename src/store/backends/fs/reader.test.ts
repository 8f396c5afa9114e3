/** Blob files read on reader threads: the same bytes as a plain read, errors with their codes, and reads after close. */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { Worker } from 'node:worker_threads';

const post = Worker.prototype.postMessage;
import { pathToFileURL } from 'node:url';
import { BlobFileReader, batchSizes } from './reader.js';
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

describe('read bursts cut into batches', () => {
  it('starts small and doubles when every thread is idle, else sends full batches, and covers every read once', () => {
    expect(batchSizes(1000, true)).toEqual([32, 64, 128, 256, 256, 256, 8]);
    expect(batchSizes(1000, false)).toEqual([256, 256, 256, 232]);
    expect(batchSizes(20, true)).toEqual([20]);
    expect(batchSizes(0, true)).toEqual([]);
    for (const n of [1, 31, 32, 33, 95, 96, 97, 480, 481, 5000]) {
      for (const idle of [true, false]) {
        const sizes = batchSizes(n, idle);
        expect(sizes.reduce((a, b) => a + b, 0)).toBe(n);
        expect(Math.max(...sizes)).toBeLessThanOrEqual(256);
      }
    }
  });

  it('sends a burst on idle threads as batches of 32, 64, 128 and then 256, and answers every read exactly', async () => {
    const reader = new BlobFileReader();
    const files = Array.from({ length: 600 }, (_, i) => {
      const file = path.join(dir, `burst${i}`);
      writeFileSync(file, `file ${i}`);
      return file;
    });
    await reader.read(files[0]!); // a thread running, and idle again
    const sent: number[] = [];
    const spy = vi.spyOn(Worker.prototype, 'postMessage').mockImplementation(function (this: Worker, m: unknown, t?: Parameters<Worker["postMessage"]>[1]) {
      const msg = m as { op?: string; files?: unknown[] };
      if (msg.op === 'read') sent.push(msg.files!.length);
      post.call(this, m, t);
    });
    try {
      const got = await Promise.all(files.map((f) => reader.read(f).then((b) => b.toString())));
      got.forEach((text, i) => expect(text).toBe(`file ${i}`));
    } finally {
      spy.mockRestore();
    }
    expect(sent).toEqual([32, 64, 128, 256, 120]);
    await reader.close();
  });
});

describe('checked reads on threads', () => {
  const blob = (data: Uint8Array): { file: string; container: Uint8Array; data: Uint8Array } => {
    const id = createHash('sha256').update(data).digest('hex');
    const file = path.join(dir, id);
    const container = encodeBlob(data);
    writeFileSync(file, container);
    return { file, container, data };
  };

  it('answers every size (one block, several, past the thread buffer) and leaves nothing of one read in another', async () => {
    const reader = new BlobFileReader();
    const code = "import { createHash } from 'node:crypto'; export function derive(id, data) { return data.length + ':' + createHash('sha256').update(data).digest('hex'); }";
    const deriver = new URL(`data:text/javascript,${encodeURIComponent(code)}`);
    const blobs = [0, 1, 3000, 4096, 4097, 200_000, 262_144, 300_000, 1_000_000].map((n) => blob(randomBytes(n)));
    // A damaged one between clean ones, in one batch: it comes back raw, byte for byte the file.
    const bad = blob(randomBytes(5000));
    const flipped = new Uint8Array(bad.container);
    flipped[flipped.length - 100]! ^= 0x81;
    writeFileSync(bad.file, flipped);
    const all = [...blobs, bad, blobs[2]!];
    const [decoded, verified, derived] = await Promise.all([
      Promise.all(all.map((b) => reader.readChecked(b.file, 'decode'))),
      Promise.all(all.map((b) => reader.readChecked(b.file, 'verify'))),
      Promise.all(all.map((b) => reader.readDerived(b.file, deriver))),
    ]);
    all.forEach((b, i) => {
      if (b === bad) {
        for (const r of [decoded[i]!, verified[i]!, derived[i]!]) expect('raw' in r && r.raw.equals(flipped)).toBe(true);
        return;
      }
      const d = decoded[i]!;
      expect('clean' in d && Buffer.from(d.clean!).equals(b.data)).toBe(true);
      expect(verified[i]).toEqual({ clean: null });
      expect(derived[i]).toEqual({ derived: `${b.data.length}:${createHash('sha256').update(b.data).digest('hex')}` });
    });
    await reader.close();
  });

  it('hands back a file longer than its container states whole, as raw, however long', async () => {
    const reader = new BlobFileReader();
    for (const extra of [1, 300_000]) {
      const b = blob(randomBytes(3000 + extra));
      const longer = Buffer.concat([b.container, randomBytes(extra)]);
      writeFileSync(b.file, longer);
      for (const r of [await reader.readChecked(b.file, 'decode'), await reader.readChecked(b.file, 'verify')]) {
        expect('raw' in r && r.raw.equals(longer)).toBe(true);
      }
    }
    // A header no copy of which can be read, past the buffer: raw and whole too.
    const junk = randomBytes(300_000);
    const file = path.join(dir, createHash('sha256').update(junk).digest('hex'));
    writeFileSync(file, junk);
    const r = await reader.readChecked(file, 'decode');
    expect('raw' in r && r.raw.equals(junk)).toBe(true);
    await reader.close();
  });
});

describe('access times', () => {
  /** A file whose access time is older than its change: under relatime (or strictatime) a plain read updates it. */
  function staleAtime(name: string): string {
    const file = path.join(dir, name);
    writeFileSync(file, name);
    const t = statSync(file).mtime;
    utimesSync(file, new Date(t.getTime() - 3 * 86_400_000), t);
    return file;
  }
  const atime = (file: string): number => statSync(file).atimeMs;

  it('reads on threads and without them leave the access time alone', async (ctx) => {
    const control = staleAtime('atime-control');
    const before = atime(control);
    readFileSync(control);
    // A filesystem mounted noatime never updates it: nothing to tell apart here.
    if (atime(control) === before) ctx.skip();
    const onThread = staleAtime('atime-thread');
    const fallback = staleAtime('atime-fallback');
    const [a, b] = [atime(onThread), atime(fallback)];
    const reader = new BlobFileReader();
    expect((await reader.read(onThread)).toString()).toBe('atime-thread');
    await reader.close();
    expect((await reader.read(fallback)).toString()).toBe('atime-fallback');
    expect([atime(onThread), atime(fallback)]).toEqual([a, b]);
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

  it('readers kept warm load the deriver modules they are given at once, before any read, each thread once', async () => {
    // A deriver whose loading leaves a mark: one line per thread that imported it.
    const marks = path.join(dir, 'deriver-loads');
    const module = path.join(dir, 'marking-deriver.mjs');
    writeFileSync(
      module,
      `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(marks)}, 'loaded\\n');\nexport function derive(id, data) { return 'len ' + data.length; }\n`,
    );
    const loads = (): number => (existsSync(marks) ? readFileSync(marks, 'utf8').split('\n').filter(Boolean).length : 0);
    const deriver = pathToFileURL(module);
    const cold = new BlobFileReader(50);
    cold.keepWarm();
    const warm = new BlobFileReader(50);
    warm.keepWarm([deriver]);
    expect(await until(() => loads() === 2)).toBe(true);
    // A derive read uses the module already loaded (no third load), and gives the deriver's answer.
    const data = randomBytes(100);
    const file = path.join(dir, createHash('sha256').update(data).digest('hex'));
    writeFileSync(file, encodeBlob(data));
    expect(await warm.readDerived(file, deriver)).toEqual({ derived: 'len 100' });
    expect(loads()).toBe(2);
    await Promise.all([cold.close(), warm.close()]);
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
