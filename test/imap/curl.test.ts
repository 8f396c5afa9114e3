/**
 * curl's IMAP client (libcurl) against postern: imaps:// URLs with a UID,
 * LIST, custom commands with -X, and imap:// with --ssl-reqd (STARTTLS).
 * Results are compared with the store.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeMessage, startHarness, type Harness, type Stored, type TestUser } from './harness.js';
import { corpusMessages } from './corpus.js';

let h: Harness;
let user: TestUser;
const msgs: Stored[] = [];

beforeAll(async () => {
  h = await startHarness();
  user = await h.addUser('curly');
  for (const m of corpusMessages().slice(0, 5)) msgs.push(await h.addMessage(user, 'INBOX', m.bytes));
  // A gap in the UIDs, so that UID and sequence number differ.
  await h.store.meta.mailboxes.expunge((await h.folder(user, 'INBOX')).id, [msgs[1]!.uid]);
  msgs.splice(1, 1);
  await h.store.meta.mailboxes.createFolder(user.accountId, 'Receipts', null, Date.now());
  await h.addMessage(user, 'Receipts', makeMessage({ from: 'shop@remote.test', subject: 'receipt', date: 'Thu, 4 Jan 2024 12:00:00 +0000' }, 'paid'));
});

afterAll(async () => {
  await h?.close();
});

function curl(args: string[], timeoutMs = 30_000, password = user.password): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('curl', ['--silent', '--show-error', '--max-time', '20', '--cacert', h.caFile, '-u', `${user.address}:${password}`, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
  });
}

const base = (scheme: 'imaps' | 'imap'): string => `${scheme}://127.0.0.1:${scheme === 'imaps' ? h.ports.tls : h.ports.starttls}`;

describe('curl', () => {
  it('fetches each message by UID over imaps://, byte for byte', async () => {
    for (const m of msgs) {
      const r = await curl([`${base('imaps')}/INBOX;UID=${m.uid}`]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.equals(m.bytes), `UID ${m.uid}`).toBe(true);
    }
  });

  it('fetches a message over imap:// with STARTTLS required', async () => {
    const m = msgs[2]!;
    const r = await curl(['--ssl-reqd', `${base('imap')}/INBOX;UID=${m.uid}`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.equals(m.bytes)).toBe(true);
  });

  it('runs UID SEARCH ALL and the answer matches the store', async () => {
    for (const scheme of ['imaps', 'imap'] as const) {
      const r = await curl([...(scheme === 'imap' ? ['--ssl-reqd'] : []), '-X', 'UID SEARCH ALL', `${base(scheme)}/INBOX`]);
      expect(r.code, r.stderr).toBe(0);
      const line = r.stdout.toString().split(/\r?\n/).find((l) => l.startsWith('* SEARCH'));
      const uids = (await h.store.meta.mailboxes.listMessages((await h.folder(user, 'INBOX')).id)).map((m) => m.uid);
      expect(line?.slice('* SEARCH'.length).trim().split(/\s+/).map(Number)).toEqual(uids);
    }
  });

  it('LISTs the folders that the store holds', async () => {
    const r = await curl([`${base('imaps')}/`]);
    expect(r.code, r.stderr).toBe(0);
    const names = r.stdout
      .toString()
      .split(/\r?\n/)
      .filter((l) => l.startsWith('* LIST'))
      .map((l) => /\) (?:"[^"]*"|NIL) "?([^"]*)"?$/.exec(l)?.[1]);
    const stored = (await h.store.meta.mailboxes.listFolders(user.accountId)).map((f) => f.name);
    expect(names.sort()).toEqual(stored.sort());
    expect(stored).toContain('Receipts');
  });

  it('gets nothing with a wrong password, nor without TLS on the STARTTLS port', async () => {
    const uid = msgs[0]!.uid;
    const bad = await curl([`${base('imaps')}/INBOX;UID=${uid}`], 30_000, 'wrong-password');
    expect(bad.code).toBe(67); // CURLE_LOGIN_DENIED
    expect(bad.stdout.length).toBe(0);
    // Without --ssl-reqd curl stays in plaintext; LOGINDISABLED and no AUTH= leave it nothing to log in with.
    const plain = await curl([`${base('imap')}/INBOX;UID=${uid}`]);
    expect(plain.code).not.toBe(0);
    expect(plain.stdout.length).toBe(0);
  });
});
