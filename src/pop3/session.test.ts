/** The session state machine with fake store and directory: no sockets. */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { PosternError } from '../core/errors.js';
import type { Directory } from '../directory/directory.js';
import { MailboxNotifier } from '../mailbox/notify.js';
import { silentLogger } from '../metrics/logger.js';
import { DEFAULT_LOGIN_THROTTLE, LoginThrottle } from '../net/throttle.js';
import type { Account, BlobStore, Folder, MailboxRepo, MailMessage } from '../store/types.js';
import { MaildropLocks } from './locks.js';
import { Pop3Session } from './session.js';
import { DEFAULT_POP3_LIMITS, type Pop3Deps } from './types.js';
import type { Pop3Step } from './wire.js';

const ACCOUNT = { id: 1, address: 'alice@example.org', disabled: false } as Account;
const FOLDER = { id: 10, accountId: 1, name: 'INBOX', uidValidity: 42 } as Folder;

function setup(opts: { secure: boolean; expungeFails?: boolean; blobs?: Record<string, Buffer | Error> }) {
  const messages: MailMessage[] = Object.entries(opts.blobs ?? {}).map(([blobId, b], i) => ({
    id: i + 1, folderId: 10, uid: i + 1, blobId, size: Buffer.isBuffer(b) ? b.length : 5, internalDate: 0, flags: [], modseq: 1,
  }));
  const expunged: number[][] = [];
  const mailboxes = {
    getFolder: async () => FOLDER,
    createFolder: async () => FOLDER,
    listMessages: async () => messages,
    expunge: async (_f: number, uids: number[]) => {
      if (opts.expungeFails) throw new Error('disk on fire');
      expunged.push(uids);
      return uids;
    },
  } as unknown as MailboxRepo;
  const blobs = {
    get: async (id: string) => {
      const b = opts.blobs?.[id];
      if (b === undefined) throw new PosternError('NOT_FOUND', id);
      if (b instanceof Error) throw b;
      return b;
    },
  } as unknown as BlobStore;
  // The name as the directory is asked for it; rené@ is alice's account under a UTF-8 name (NFC only).
  const directory = { authenticate: async (u: string, p: string) => ((u === ACCOUNT.address || u === 'ren\u00e9@example.org') && p === 'right' ? ACCOUNT : null) } as unknown as Directory;
  const clock = new ManualClock(1000);
  // No per-account delay: the manual clock does not move, real timers would.
  const authThrottle = new LoginThrottle({ ...DEFAULT_LOGIN_THROTTLE, maxSourceFailures: 10, delayMinMs: 0 }, clock);
  const notifier = new MailboxNotifier();
  const changed: number[] = [];
  notifier.subscribe(10, (id) => changed.push(id));
  const deps: Pop3Deps = {
    hostname: 'mail.example.org', directory, mailboxes, blobs, notifier, clock, log: silentLogger(),
    tls: {}, limits: DEFAULT_POP3_LIMITS, authThrottle,
  };
  const sent: Buffer[] = [];
  const wire = { secure: opts.secure, send: (d: Buffer | readonly Buffer[]) => void sent.push(...(Buffer.isBuffer(d) ? [d] : d)), loggedIn: () => undefined, channelBindings: () => ({}) };
  const locks = new MaildropLocks();
  const session = new Pop3Session({ mode: 'stls', deps, locks }, wire, '192.0.2.1', silentLogger());
  const run = async (line: string): Promise<{ step: Pop3Step; out: string }> => {
    sent.length = 0;
    const step = await session.handle({ type: 'line', line: Buffer.from(line, 'latin1') });
    return { step, out: Buffer.concat(sent).toString('latin1') };
  };
  return { run, session, expunged, changed, locks };
}

describe('Pop3Session', () => {
  it('refuses every way to send credentials before TLS and asks for STLS', async () => {
    const { run } = setup({ secure: false });
    for (const cmd of ['USER alice@example.org', 'PASS right', 'AUTH PLAIN', 'AUTH']) {
      expect((await run(cmd)).out).toMatch(/^-ERR \[AUTH\] .*STLS/);
    }
    expect(await run('STLS')).toEqual({ step: 'starttls', out: '+OK Begin TLS negotiation now\r\n' });
  });

  it('QUIT expunges exactly the marked messages, notifies, and releases the lock', async () => {
    const { run, expunged, changed, locks } = setup({ secure: true, blobs: { a: Buffer.from('A\r\n'), b: Buffer.from('B\r\n'), c: Buffer.from('C\r\n') } });
    await run('USER alice@example.org');
    expect((await run('PASS right')).out).toMatch(/^\+OK/);
    expect(locks.isHeld(1)).toBe(true);
    await run('DELE 3');
    await run('DELE 1');
    expect(await run('QUIT')).toEqual({ step: 'close', out: '+OK Bye, 2 messages deleted\r\n' });
    expect(expunged).toEqual([[1, 3]]);
    await Promise.resolve();
    expect(changed).toEqual([10]);
    expect(locks.isHeld(1)).toBe(false);
  });

  it('a failed expunge is reported with [SYS/TEMP] and still closes and releases', async () => {
    const { run, locks } = setup({ secure: true, expungeFails: true, blobs: { a: Buffer.from('A\r\n') } });
    await run('USER alice@example.org');
    await run('PASS right');
    await run('DELE 1');
    expect(await run('QUIT')).toEqual({ step: 'close', out: '-ERR [SYS/TEMP] Some deleted messages were not removed\r\n' });
    expect(locks.isHeld(1)).toBe(false);
  });

  it('a damaged blob gives [SYS/PERM]; any other store failure gives [SYS/TEMP]; the session goes on', async () => {
    const { run } = setup({ secure: true, blobs: { a: new PosternError('INTEGRITY', 'bad block'), b: new Error('EIO'), c: Buffer.from('x\r\n.y\r\n') } });
    await run('USER alice@example.org');
    await run('PASS right');
    expect((await run('RETR 1')).out).toBe('-ERR [SYS/PERM] message is damaged\r\n');
    expect((await run('RETR 2')).out).toMatch(/^-ERR \[SYS\/TEMP\]/);
    expect((await run('RETR 3')).out).toBe('+OK 7 octets\r\nx\r\n..y\r\n.\r\n');
  });

  it('closing without QUIT releases the lock and expunges nothing', async () => {
    const { run, session, expunged, locks } = setup({ secure: true, blobs: { a: Buffer.from('A\r\n') } });
    await run('USER alice@example.org');
    await run('PASS right');
    await run('DELE 1');
    session.closed();
    expect(expunged).toEqual([]);
    expect(locks.isHeld(1)).toBe(false);
  });

  it('UTF8 (RFC 6856) answers +OK before login and is refused after it; a UTF-8 name reaches the directory in NFC', async () => {
    const { run } = setup({ secure: true });
    expect(await run('UTF8')).toEqual({ step: 'continue', out: '+OK UTF8 enabled\r\n' });
    const utf8 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
    await run(utf8('USER rene\u0301@example.org')); // decomposed: e + combining acute
    expect((await run(utf8('PASS right'))).out).toMatch(/^\+OK/);
    expect((await run('UTF8')).out).toMatch(/^-ERR/);
  });

  it('closes after three failed logins', async () => {
    const { run } = setup({ secure: true });
    const steps: Pop3Step[] = [];
    for (let i = 0; i < 3; i++) {
      await run('USER alice@example.org');
      steps.push((await run('PASS wrong')).step);
    }
    expect(steps).toEqual(['continue', 'continue', 'close']);
  });
});
