import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../metrics/logger.js';
import { statusOf } from './session.js';
import { RawClient, startHarness, type Harness } from './testing/harness.js';

/** Every JSON log line the server wrote, parsed. */
const lines: { level: number; msg: string; cmd?: string; status?: string | null }[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as (typeof lines)[number]);
    done();
  },
});

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ log: createLogger('info', sink) });
});
afterAll(async () => {
  await h.close();
});

describe('command log', () => {
  it('reads the status of a tagged response', () => {
    expect(statusOf(Buffer.from('a1 OK [READ-WRITE] SELECT completed\r\n'))).toBe('OK');
    expect(statusOf(Buffer.from('a1 NO [TRYCREATE] No such mailbox\r\n'))).toBe('NO');
    expect(statusOf(Buffer.from('a1 BAD Unknown command\r\n'))).toBe('BAD');
    expect(statusOf(Buffer.from('nospace'))).toBe('');
  });

  it('logs refused commands at info and routine successes only at debug', async () => {
    const c = await RawClient.tls(h.ports.tls);
    await c.line();
    await c.login('a');
    expect((await c.command('b', 'SELECT INBOX')).at(-1)).toMatch(/^b OK /);
    expect(await c.command('c', 'NOOP')).toEqual(['c OK NOOP completed']);
    expect((await c.command('d', 'SELECT Nowhere')).at(-1)).toBe('d NO [NONEXISTENT] No such mailbox');
    expect(await c.command('e', 'FETCH 1:* (FLAGS')).toHaveLength(1);
    c.close();
    const commands = lines.filter((l) => l.msg === 'command');
    expect(commands.map((l) => [l.cmd, l.status, l.level])).toEqual([['SELECT', 'NO', 30]]);
    // The parse error is answered BAD before a command runs: it has its own line.
    expect(lines.some((l) => l.msg === 'login')).toBe(true);
  });

  it('answers EXPUNGE with nothing flagged \\Deleted without changing the folder', async () => {
    await h.deliver('INBOX', 'Subject: one\r\n\r\nbody\r\n');
    const before = (await h.meta.mailboxes.getFolder(h.account.id, 'INBOX'))!.highestModseq;
    const c = await RawClient.tls(h.ports.tls);
    await c.line();
    await c.login('a');
    await c.command('b', 'SELECT INBOX');
    expect(await c.command('c', 'EXPUNGE')).toEqual(['c OK EXPUNGE completed']);
    expect((await h.meta.mailboxes.getFolder(h.account.id, 'INBOX'))!.highestModseq).toBe(before);
    expect(await c.command('d', 'STORE 1 +FLAGS.SILENT (\\Deleted)')).toEqual(['d OK STORE completed']);
    expect(await c.command('e', 'EXPUNGE')).toEqual(['* 1 EXPUNGE', 'e OK EXPUNGE completed']);
    expect(await c.command('f', 'CLOSE')).toEqual(['f OK CLOSE completed']);
    c.close();
  });
});
