/**
 * End to end, on a running server: mail arrives over SMTP (nodemailer to the
 * MX port), bits are flipped in the blob files on disk (seeded: replay with
 * INTEGRITY_SEED), and the real CLI (`node dist/cli/main.js`) scrubs, backs
 * up while a client keeps sending, verifies and restores. Needs `npm run build`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { spawn } from 'node:child_process';
import { cpSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { FILES_ONLY, MAIN, cli, makeInstallation, startServer, type Installation, type ServerProcess } from '../process/postern-process.js';
import { openStore, type Store } from '../../src/store/index.js';
import { blobFile, blockCount, blockDataBits, flipBit, seededRng, testSeed } from './helpers.js';

const seed = testSeed();
const rng = seededRng(seed);
const DOMAIN = 'integrity.test';
const RCPT = `alice@${DOMAIN}`;
const MAX_DURING_BACKUP = 300; // bounds the sending loop whatever happens

function body(id: string): string {
  const filler = Buffer.from(rng.bytes(2000 + rng.int(30_000))).toString('base64').replace(/.{76}/g, '$&\r\n');
  return `From: sender@remote.test\r\nTo: ${RCPT}\r\nSubject: ${id}\r\nMessage-ID: <${id}@remote.test>\r\n\r\n${filler}\r\n`;
}

/** The CLI as a child process without blocking this process's event loop (the sender keeps going). */
function cliAsync(inst: Installation, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [MAIN, '-c', inst.config, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Every stored message (INBOX and queue) by Message-ID, with its blob id. */
async function storedById(store: Store): Promise<Map<string, { blobId: string; bytes: string | null }>> {
  const out = new Map<string, { blobId: string; bytes: string | null }>();
  const acct = (await store.meta.directory.getAccount(RCPT))!;
  const inbox = (await store.meta.mailboxes.getFolder(acct.id, 'INBOX'))!;
  const blobIds = (await store.meta.mailboxes.listMessages(inbox.id)).map((m) => m.blobId);
  for (const r of await store.meta.queue.listPending(100_000)) {
    const q = await store.meta.queue.getMessage(r.queueId);
    if (q) blobIds.push(q.blobId);
  }
  for (const blobId of blobIds) {
    const bytes = await store.blobs.get(blobId).then(
      (b) => Buffer.from(b).toString('latin1'),
      () => null,
    );
    const id = bytes ? /^Message-ID: <([^@]+)@remote\.test>/m.exec(bytes)?.[1] : undefined;
    out.set(id ?? `blob:${blobId}`, { blobId, bytes });
  }
  return out;
}

describe(`store integrity on a running server (seed ${seed})`, () => {
  let inst: Installation;
  let server: ServerProcess | null = null;
  const sent = new Map<string, string>();
  const transport = () => nodemailer.createTransport({ host: '127.0.0.1', port: inst.ports.mx, secure: false, ignoreTLS: true, pool: false });
  const send = async (t: ReturnType<typeof transport>, id: string) => {
    const raw = body(id);
    await t.sendMail({ envelope: { from: 'sender@remote.test', to: [RCPT] }, raw });
    sent.set(id, raw);
  };
  const dataDir = () => path.join(inst.dir, 'data');
  const backupDir = () => path.join(inst.dir, 'backup');

  beforeAll(async () => {
    inst = await makeInstallation(DOMAIN, '[integrity]\nscrub_interval = 0\n' + FILES_ONLY);
    expect(cli(inst, ['user', 'add', RCPT], 'a long enough password\n').status).toBe(0);
    server = await startServer(inst);
    const t = transport();
    for (let i = 0; i < 50; i++) await send(t, `m${i}`);
  });
  afterAll(async () => {
    await server?.kill('SIGTERM');
    inst?.cleanup();
  });

  it('backs up while a client keeps sending; the restore holds every message acknowledged before the backup started', async () => {
    const t = transport();
    let stop = false;
    const sender = (async () => {
      for (let i = 0; i < MAX_DURING_BACKUP && !stop; i++) await send(t, `during${i}`);
    })();
    while (![...sent.keys()].some((k) => k.startsWith('during'))) await new Promise((r) => setTimeout(r, 10));
    const ackedBefore = new Set(sent.keys());
    const b = await cliAsync(inst, ['backup', backupDir()]);
    stop = true;
    await sender;
    expect(b.stderr + b.stdout).toMatch(/manifest SHA-256: [0-9a-f]{64}/);
    expect(b.status).toBe(0);
    expect([...sent.keys()].length).toBeGreaterThan(ackedBefore.size); // mail kept flowing during the backup

    const v = cli(inst, ['backup', 'verify', backupDir()]);
    expect(v.stdout).toMatch(/verified/);
    expect(v.status).toBe(0);

    const target = path.join(inst.dir, 'restored');
    const r = cli(inst, ['restore', backupDir(), '--data-dir', target]);
    expect(r.stderr).not.toMatch(/postern:/); // no error line
    expect(r.status).toBe(0);
    const restored = await openStore({ backend: 'sqlite', dataDir: target });
    try {
      const got = await storedById(restored);
      for (const id of ackedBefore) {
        const m = got.get(id);
        expect(m?.bytes, `message ${id} acknowledged before the backup`).toBeTruthy();
        // Intact: what is stored ends with exactly what the client sent (the server prepends Received:).
        expect(m!.bytes!.endsWith(sent.get(id)!)).toBe(true);
      }
    } finally {
      await restored.close();
    }
  });

  it('refuses a corrupted blob, a corrupted metadata file, a tampered manifest and a missing blob, in verify and restore', () => {
    const manifest = JSON.parse(readFileSync(path.join(backupDir(), 'manifest.json'), 'utf8')) as {
      manifest: { metadata: { file: string }; blobs: { id: string }[] };
    };
    const blobs = manifest.manifest.blobs;
    const someBlob = (i: number) => path.join('blobs', blobs[i]!.id.slice(0, 2), blobs[i]!.id.slice(2, 4), blobs[i]!.id);
    const cases: { name: string; damage: (dir: string) => void; file: string }[] = [
      { name: 'corrupted blob', damage: (d) => flipBit(path.join(d, someBlob(1)), 8 * 1000 + 5), file: someBlob(1) },
      { name: 'corrupted metadata', damage: (d) => flipBit(path.join(d, manifest.manifest.metadata.file), 8 * 5000 + 2), file: manifest.manifest.metadata.file },
      {
        name: 'tampered manifest',
        damage: (d) => {
          const f = path.join(d, 'manifest.json');
          writeFileSync(f, readFileSync(f, 'utf8').replace(/"sourceHost": "[^"]*"/, '"sourceHost": "attacker.example"'));
        },
        file: 'manifest.json',
      },
      { name: 'missing blob', damage: (d) => rmSync(path.join(d, someBlob(2))), file: someBlob(2) },
    ];
    for (const c of cases) {
      const copy = path.join(inst.dir, `bad-${c.name.replace(/ /g, '-')}`);
      cpSync(backupDir(), copy, { recursive: true });
      c.damage(copy);
      const named = path.join(copy, c.file);
      const v = cli(inst, ['backup', 'verify', copy]);
      expect(v.status, `${c.name}: verify`).toBe(1);
      expect(v.stderr, `${c.name}: verify names the file`).toContain(named);
      const target = path.join(inst.dir, `target-${c.name.replace(/ /g, '-')}`);
      const r = cli(inst, ['restore', copy, '--data-dir', target]);
      expect(r.status, `${c.name}: restore`).toBe(1);
      expect(r.stderr, `${c.name}: restore names the file`).toContain(named);
      expect(r.stderr).toMatch(/nothing was restored/);
      expect(existsSync(target), `${c.name}: nothing written`).toBe(false);
    }
    const status = cli(inst, ['scrub', '--status', '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ backupVerifyFailures: 2 * cases.length });
  });

  it('repairs every single flipped bit through `postern scrub`, and exits 1 on two flips in one block', async () => {
    const store = await openStore({ backend: 'sqlite', dataDir: dataDir() });
    let byId: Map<string, { blobId: string; bytes: string | null }>;
    try {
      byId = await storedById(store);
    } finally {
      await store.close();
    }
    const ids = [...sent.keys()].filter((id) => byId.has(id));
    const victims = rng.pick(ids.length, 20).map((i) => ids[i]!);
    for (const id of victims) {
      const file = blobFile(dataDir(), byId.get(id)!.blobId);
      flipBit(file, rng.int(statSync(file).size * 8));
    }
    const s1 = await cliAsync(inst, ['scrub']);
    expect(s1.stdout).toMatch(new RegExp(`corrected\\s+${victims.length} blob\\(s\\), ${victims.length} bit\\(s\\)`));
    expect(s1.status).toBe(0);

    // Two flips in one data block of one message: reported, never served.
    const [bad] = rng.pick(ids.length, 1).map((i) => ids[i]!);
    const badBlob = byId.get(bad!)!.blobId;
    const length = Buffer.byteLength(byId.get(bad!)!.bytes!, 'latin1');
    const { first, count } = blockDataBits(length, rng.int(blockCount(length)));
    const [x, y] = rng.pick(count, 2);
    flipBit(blobFile(dataDir(), badBlob), first + x!);
    flipBit(blobFile(dataDir(), badBlob), first + y!);
    const s2 = await cliAsync(inst, ['scrub', '--full']);
    expect(s2.status).toBe(1);
    expect(s2.stdout).toMatch(/uncorrectable\s+1\b/);
    expect(s2.stdout).toContain(`uncorrectable blob ${badBlob}`);

    const after = await openStore({ backend: 'sqlite', dataDir: dataDir() });
    try {
      const now = await storedById(after);
      for (const id of ids.filter((i) => i !== bad)) expect(now.get(id)?.bytes?.endsWith(sent.get(id)!), `message ${id}`).toBe(true);
      await expect(after.blobs.get(badBlob)).rejects.toMatchObject({ code: 'INTEGRITY' });
      expect((await after.meta.integrity.damagedMessages()).map((d) => d.blobId)).toContain(badBlob);
      expect(readdirSync(path.dirname(blobFile(dataDir(), badBlob)))).toContain(badBlob); // kept for forensics
    } finally {
      await after.close();
    }
    const status = cli(inst, ['scrub', '--status', '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ corrected: victims.length, damagedBlobs: 1 });
  });
});
