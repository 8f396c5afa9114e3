/**
 * The clamd engine against a real clamd started here with a tiny database:
 * EICAR in the forms mail carries it (plain, base64, zip, zip in a zip), every
 * file of clamav-testfiles, clean mail, clamd's ERROR, clamd down, abort.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClamdEngine, parseScanReply, parseVersion } from '../../../src/policy/av/clamav.js';
import { EngineUnavailable } from '../../../src/policy/av/engine.js';
import { Clamd, eicar, EICAR_SIG, mailWith, TESTFILE_SIG, TESTFILES } from '../../support/clamd.js';
import { freePort } from '../../process/postern-process.js';

const clean = () => {
  const filler = Buffer.alloc(50 * 1024, 'All work and no play makes Jack a dull boy. ');
  return mailWith('notes.txt', 'text/plain', filler);
};

describe('clamd engine', () => {
  let clamd: Clamd;
  let unix: ClamdEngine;
  let tcp: ClamdEngine;
  const signal = () => AbortSignal.timeout(30_000);

  beforeAll(async () => {
    clamd = await Clamd.create({ streamMaxLength: '2M' });
    unix = new ClamdEngine({ socket: clamd.socket, maxConnections: 4, timeoutMs: 10_000 });
    tcp = new ClamdEngine({ host: '127.0.0.1', port: clamd.port, maxConnections: 4, timeoutMs: 10_000 });
  });
  afterAll(async () => {
    await unix?.close();
    await tcp?.close();
    await clamd?.dispose();
  });

  it('finds EICAR in a plain attachment, a base64 part, a zip and a zip inside a zip', async () => {
    const e = Buffer.from(eicar(), 'latin1');
    const zip = zipSync({ 'eicar.com': e });
    const nested = zipSync({ 'inner.zip': zip, 'readme.txt': Buffer.from('hello') });
    const cases = [
      mailWith('eicar.com', 'application/octet-stream', e, { encoding: '7bit' }),
      mailWith('eicar.com', 'application/octet-stream', e),
      mailWith('files.zip', 'application/zip', zip),
      mailWith('nested.zip', 'application/zip', nested),
    ];
    for (const [i, m] of cases.entries()) {
      const r = await unix.scan(m, signal());
      expect(r.detections.map((d) => d.signature), `case ${i}`).toEqual([EICAR_SIG]);
      expect(r.engine).toBe('clamav');
    }
    // The same over TCP.
    expect((await tcp.scan(cases[3]!, signal())).detections[0]?.signature).toBe(EICAR_SIG);
  });

  it('passes clean mail, in many chunks', async () => {
    const small = new ClamdEngine({ socket: clamd.socket, maxConnections: 1, timeoutMs: 10_000, chunkBytes: 1024 });
    const r = await small.scan(clean(), signal());
    expect(r.detections).toEqual([]);
    await small.close();
  });

  it('catches every file of clamav-testfiles', async () => {
    const files = readdirSync(TESTFILES);
    expect(files.length).toBeGreaterThanOrEqual(40);
    const missed: string[] = [];
    await Promise.all(
      files.map(async (f) => {
        const r = await tcp.scan(readFileSync(path.join(TESTFILES, f)), signal());
        if (!r.detections.some((d) => d.signature === TESTFILE_SIG)) missed.push(f);
      }),
    );
    expect(missed).toEqual([]);
  });

  it("takes clamd's ERROR (stream over its size limit) as unavailable, never clean", async () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 0x41);
    await expect(unix.scan(big, signal())).rejects.toBeInstanceOf(EngineUnavailable);
  });

  it('reports health: PONG and the version', async () => {
    const h = await unix.health(signal());
    expect(h.up).toBe(true);
    expect(h.version).toMatch(/^ClamAV \d+\.\d+/);
  });

  it('is unavailable when nothing listens, and on a silent peer within its timeout', async () => {
    const down = new ClamdEngine({ host: '127.0.0.1', port: await freePort(), maxConnections: 1, timeoutMs: 2000 });
    await expect(down.scan(clean(), signal())).rejects.toBeInstanceOf(EngineUnavailable);
    expect((await down.health(signal())).up).toBe(false);
    // A peer that accepts and never answers.
    const silent: Server = createServer((s) => s.on('data', () => undefined).on('error', () => undefined));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    const mute = new ClamdEngine({ host: '127.0.0.1', port, maxConnections: 1, timeoutMs: 500 });
    await expect(mute.scan(Buffer.from('x'), signal())).rejects.toThrow(/no progress/);
    // Abort destroys the connection at once.
    const slow = new ClamdEngine({ host: '127.0.0.1', port, maxConnections: 1, timeoutMs: 60_000 });
    const ac = new AbortController();
    const p = slow.scan(Buffer.from('x'), ac.signal);
    setTimeout(() => ac.abort(), 100);
    await expect(p).rejects.toThrow(/aborted/);
    // With its one slot taken, a second scan waits and gives up on its own signal.
    const hold = new AbortController();
    const first = slow.scan(Buffer.from('x'), hold.signal).catch((e: unknown) => e);
    await expect(slow.scan(Buffer.from('y'), AbortSignal.timeout(200))).rejects.toThrow(/waiting for a connection/);
    hold.abort();
    expect(await first).toBeInstanceOf(EngineUnavailable);
    await new Promise<void>((r) => silent.close(() => r()));
  });
});

describe('clamd replies', () => {
  it('parses OK, FOUND and ERROR', () => {
    expect(parseScanReply('stream: OK\0')).toEqual([]);
    expect(parseScanReply('stream: Win.Test.EICAR_HDB-1 FOUND\0')).toEqual([{ engine: 'clamav', signature: 'Win.Test.EICAR_HDB-1', part: null }]);
    expect(() => parseScanReply('INSTREAM size limit exceeded. ERROR\0')).toThrow(EngineUnavailable);
    expect(() => parseScanReply('')).toThrow(EngineUnavailable);
    expect(() => parseScanReply('UNKNOWN COMMAND\0')).toThrow(EngineUnavailable);
  });

  it('parses VERSION', () => {
    const v = parseVersion('ClamAV 1.4.6/27480/Wed Dec  2 09:31:00 2026\0');
    expect(v.version).toBe('ClamAV 1.4.6/27480/Wed Dec  2 09:31:00 2026');
    expect(v.signaturesAt).toBe(Date.UTC(2026, 11, 2, 9, 31, 0));
    expect(parseVersion('ClamAV 1.4.6').signaturesAt).toBeNull();
  });
});
