/**
 * mbsync (isync) pulls a mailbox of 1,000 messages from postern into a local
 * Maildir; the Maildir then holds exactly the stored messages. A second run
 * after flag changes on the server carries the flags into the file names.
 *
 * mbsync changes two things on the way into a Maildir, both documented
 * isync behaviour: CRLF becomes LF (Maildir files use the local line ending)
 * and it adds an "X-TUID:" header to find the message again. The comparison
 * undoes exactly those two and nothing else.
 */
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeMessage, startHarness, type Harness, type Stored, type TestUser } from './harness.js';
import { corpusMessages } from './corpus.js';

const COUNT = 1000;
let h: Harness;
let user: TestUser;
const msgs: Stored[] = [];
let home: string;

beforeAll(async () => {
  h = await startHarness();
  user = await h.addUser('syncer');
  const corpus = corpusMessages();
  for (let i = 0; i < COUNT; i++) {
    const bytes =
      i < corpus.length
        ? corpus[i]!.bytes
        : makeMessage({ from: `list${i % 17}@remote.test`, subject: `bulk message ${i}`, date: 'Fri, 5 Jan 2024 08:00:00 +0000' }, `line ${i}\r\n`.repeat(1 + (i % 40)));
    msgs.push(await h.addMessage(user, 'INBOX', bytes, { flags: i % 5 === 0 ? ['\\Seen'] : [] }));
  }
  home = path.join(h.dir, 'mbsync');
  // mbsync 1.4 matches the certificate's DNS names, not IP addresses: it connects to "localhost".
  mkdirSync(path.join(home, 'mail'), { recursive: true });
  writeFileSync(
    path.join(home, 'mbsyncrc'),
    `IMAPAccount postern
Host localhost
Port ${h.ports.tls}
User ${user.address}
PassCmd "echo ${user.password}"
SSLType IMAPS
CertificateFile ${h.caFile}
PipelineDepth 50

IMAPStore remote
Account postern

MaildirStore local
Path ${home}/mail/
Inbox ${home}/mail/INBOX
SubFolders Verbatim

Channel pull
Far :remote:
Near :local:
Patterns INBOX
Sync Pull
Create Near
SyncState *
`,
  );
}, 180_000);

afterAll(async () => {
  await h?.close();
});

function mbsync(): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('mbsync', ['-c', path.join(home, 'mbsyncrc'), '-a'], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

interface MaildirFile {
  uid: number;
  flags: string;
  bytes: Buffer;
}

function readMaildir(): MaildirFile[] {
  const out: MaildirFile[] = [];
  for (const sub of ['cur', 'new']) {
    const dir = path.join(home, 'mail', 'INBOX', sub);
    for (const name of readdirSync(dir)) {
      const m = /,U=(\d+)(?::2,([A-Z]*))?$/.exec(name);
      if (!m) throw new Error(`unexpected Maildir file name ${name}`);
      out.push({ uid: Number(m[1]), flags: m[2] ?? '', bytes: readFileSync(path.join(dir, name)) });
    }
  }
  return out.sort((a, b) => a.uid - b.uid);
}

/** Undoes mbsync's own changes: the X-TUID header it adds at the end of the header section. */
function withoutTuid(b: Buffer): Buffer {
  const s = b.toString('latin1');
  const end = s.indexOf('\n\n');
  const head = s.slice(0, end + 1).replace(/^X-TUID: [^\n]*\n/m, '');
  return Buffer.from(head + s.slice(end + 1), 'latin1');
}

const lf = (b: Buffer): Buffer => Buffer.from(b.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('mbsync', () => {
  it('pulls 1,000 messages into a Maildir; the files are the stored messages', async () => {
    const r = await mbsync();
    expect(r.code, r.out).toBe(0);
    const files = readMaildir();
    expect(files).toHaveLength(COUNT);
    expect(files.map((f) => f.uid)).toEqual(msgs.map((m) => m.uid));
    const got = files.map((f) => sha(withoutTuid(f.bytes))).sort();
    // The stored blobs, read back from the blob store, in mbsync's line ending.
    const want: string[] = [];
    for (const m of msgs) want.push(sha(lf(Buffer.from(await h.store.blobs.get(m.message.blobId)))));
    expect(got).toEqual(want.sort());
    expect(files.map((f) => f.flags.includes('S'))).toEqual(msgs.map((m) => m.message.flags.includes('\\Seen')));
  }, 180_000);

  it('a second run carries flag changes made on the server into the Maildir', async () => {
    const folder = await h.folder(user, 'INBOX');
    const flagged = msgs.filter((_, i) => i % 7 === 3).map((m) => m.uid);
    const unseen = msgs.filter((_, i) => i % 10 === 0).map((m) => m.uid);
    await h.store.meta.mailboxes.storeFlags(folder.id, { uids: flagged, op: 'add', flags: ['\\Flagged', '\\Answered'] });
    await h.store.meta.mailboxes.storeFlags(folder.id, { uids: unseen, op: 'remove', flags: ['\\Seen'] });
    h.notifier.changed(folder.id);
    const r = await mbsync();
    expect(r.code, r.out).toBe(0);
    const now = await h.store.meta.mailboxes.listMessages(folder.id);
    const maildirFlags = (flags: readonly string[]): string =>
      [flags.includes('\\Flagged') ? 'F' : '', flags.includes('\\Answered') ? 'R' : '', flags.includes('\\Seen') ? 'S' : ''].join('');
    const files = readMaildir();
    expect(files.map((f) => ({ uid: f.uid, flags: f.flags }))).toEqual(now.map((m) => ({ uid: m.uid, flags: maildirFlags(m.flags) })));
    expect(files.filter((f) => f.flags.includes('F'))).toHaveLength(flagged.length);
  }, 180_000);
});
