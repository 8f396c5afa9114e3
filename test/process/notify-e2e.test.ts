/**
 * IMAP NOTIFY (RFC 5465) end to end in one real postern process, with
 * Python's imaplib over TLS: client A asks NOTIFY SET for the selected
 * mailbox (new mail with UID and FLAGS, expunges) and for all personal
 * mailboxes (new mail, expunges, names); client B appends to INBOX and to
 * Sent, creates a folder and deletes it. A issues no command meanwhile and
 * reads the FETCH, STATUS and LIST lines as they come (bounded waits).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { cli, makeInstallation, startServer, type Installation, type ServerProcess } from './postern-process.js';
import { run } from '../support/procs.js';

const PASSWORD = 'a long enough password 1';
const USER = 'nora@example.test';
let inst: Installation;
let server: ServerProcess | null = null;

beforeAll(async () => {
  inst = await makeInstallation('example.test', '[delivery]\nenabled = false\n', { imap: true, logLevel: 'warn' });
  const add = cli(inst, ['user', 'add', USER], `${PASSWORD}\n`);
  expect(add.status, add.stderr).toBe(0);
  server = await startServer(inst, 60_000);
}, 90_000);
afterAll(async () => {
  await server?.kill();
  inst?.cleanup();
});

const SCRIPT = String.raw`
import imaplib, json, os, ssl, time
imaplib.Commands['NOTIFY'] = ('AUTH', 'SELECTED')
ctx = ssl.create_default_context(cafile=os.environ['CA']); ctx.check_hostname = False
def connect():
    m = imaplib.IMAP4_SSL('127.0.0.1', int(os.environ['PORT']), ssl_context=ctx, timeout=20)
    m.login(os.environ['USER_'], os.environ['PASS'])
    return m
out = {}
a = connect()
# The greeting's list is from before login: ask again.
out['caps'] = a.capability()[1][0].decode()
typ, _ = a.select('INBOX')
out['select'] = typ
typ, data = a._simple_command('NOTIFY', 'SET (SELECTED (MessageNew (UID FLAGS) MessageExpunge)) (PERSONAL (MessageNew MessageExpunge MailboxName))')
out['notify'] = typ
b = connect()
msg = b'From: b@example.test\r\nSubject: hi\r\n\r\nhello\r\n'
out['appendInbox'] = b.append('INBOX', None, None, msg)[0]
out['appendSent'] = b.append('Sent', '(\\Seen)', None, msg)[0]
out['create'] = b.create('Projects')[0]
out['delete'] = b.delete('Projects')[0]
# A reads what arrives, unasked: at most 20 lines or 20 seconds.
a.sock.settimeout(20)
lines = []
deadline = time.monotonic() + 20
want = ('EXISTS', 'FETCH', 'STATUS', 'LIST () ', 'NonExistent')
while len(lines) < 20 and time.monotonic() < deadline:
    if all(any(w in l for l in lines) for w in want):
        break
    l = a.readline()
    if not l:
        break
    lines.append(l.decode('utf-8', 'replace').rstrip('\r\n'))
out['lines'] = lines
out['noop'] = a.noop()[0]
b.logout()
a.logout()
print(json.dumps(out))
`;

describe('NOTIFY with imaplib against a real server', () => {
  it("client A hears of B's new mail, appends elsewhere, and folder changes without issuing commands", async () => {
    const r = await run('/usr/bin/python3', ['-c', SCRIPT], {
      env: { CA: path.join(inst.dir, 'tls/cert.pem'), PORT: String(inst.ports.imaps), USER_: USER, PASS: PASSWORD },
      timeoutMs: 60_000,
    });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out.caps).toMatch(/\bNOTIFY\b/);
    expect([out.select, out.notify, out.appendInbox, out.appendSent, out.create, out.delete, out.noop]).toEqual(['OK', 'OK', 'OK', 'OK', 'OK', 'OK', 'OK']);
    const lines = out.lines as string[];
    expect(lines).toContain('* 1 EXISTS');
    expect(lines).toContainEqual(expect.stringMatching(/^\* 1 FETCH \(UID 1 FLAGS \((\\Recent)?\)\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^\* STATUS "Sent" \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+ UNSEEN 0\)$/));
    expect(lines).toContain('* LIST () "/" "Projects"');
    expect(lines).toContain('* LIST (\\NonExistent) "/" "Projects"');
    // The LIST for the creation comes before the one for the deletion.
    expect(lines.indexOf('* LIST () "/" "Projects"')).toBeLessThan(lines.indexOf('* LIST (\\NonExistent) "/" "Projects"'));
  });
});
