/**
 * Continuous readers for the soak test, each a real client in its own
 * process: Python's imaplib (STARTTLS, UID FETCH of everything new) and
 * poplib (POP3S, RETR of every UIDL not seen yet, QUIT without DELE). They
 * reconnect after every failure (the server is killed under them) and print
 * one JSON line per message read: its Message-ID and the SHA-256 of what
 * follows postern's own Received header, so the test can check that nothing
 * damaged was ever served.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export const PYTHON = '/usr/bin/python3';

const COMMON = String.raw`
import hashlib, json, os, re, ssl, sys, time
P = json.loads(os.environ['SOAK_READER'])
DEADLINE = time.time() + P['seconds']
def emit(**kw):
    sys.stdout.write(json.dumps(kw) + '\n')
    sys.stdout.flush()
def skip_field(raw):
    end = 0
    while True:
        nl = raw.find(b'\r\n', end)
        if nl < 0:
            return raw
        end = nl + 2
        if raw[end:end + 1] not in (b' ', b'\t'):
            return raw[end:]
def digest(raw):
    # The delivery fields local delivery puts first (Return-Path, Delivered-To),
    # postern's own Received field, then the fields its policy stages add below it.
    while re.match(rb'(Return-Path|Delivered-To):', raw):
        raw = skip_field(raw)
    if raw.startswith(b'Received: '):
        raw = skip_field(raw)
        while re.match(rb'(?i)(Authentication-Results|X-Postern-[A-Za-z-]+):', raw):
            raw = skip_field(raw)
    head = raw.split(b'\r\n\r\n', 1)[0]
    m = re.search(rb'^Message-ID: <([^@>]+)@', head, re.M | re.I)
    return (m.group(1).decode('latin1') if m else None), hashlib.sha256(raw).hexdigest()
def ctx():
    return ssl.create_default_context(cafile=P['ca'])
`;

const IMAP = String.raw`
import imaplib
imaplib._MAXLINE = 10_000_000
last = 0
while time.time() < DEADLINE:
    m = None
    try:
        m = imaplib.IMAP4('127.0.0.1', P['port'], timeout=20)
        m.starttls(ssl_context=ctx())
        m.login(P['user'], P['password'])
        typ, _ = m.select('INBOX', readonly=True)
        if typ != 'OK':
            raise RuntimeError('SELECT ' + typ)
        emit(ev='session')
        while time.time() < DEADLINE:
            typ, data = m.uid('FETCH', '%d:%d' % (last + 1, last + 100), '(UID BODY.PEEK[])')
            if typ != 'OK':
                emit(ev='no', text=repr(data)[:300])
                time.sleep(0.5)
                continue
            got = 0
            for part in data:
                if not isinstance(part, tuple):
                    continue
                u = re.search(rb'UID (\d+)', part[0])
                if not u:
                    continue
                uid = int(u.group(1))
                if uid <= last:
                    continue
                mid, sha = digest(part[1])
                emit(ev='read', uid=uid, mid=mid, sha=sha)
                last = max(last, uid)
                got += 1
            if got == 0:
                time.sleep(0.5)
                m.noop()
    except Exception as e:
        emit(ev='error', text=type(e).__name__ + ': ' + str(e)[:200])
        time.sleep(0.5)
    finally:
        try:
            if m is not None:
                m.logout()
        except Exception:
            pass
`;

const POP3 = String.raw`
import poplib
poplib._MAXLINE = 10_000_000
seen = set()
while time.time() < DEADLINE:
    p = None
    try:
        p = poplib.POP3_SSL('127.0.0.1', P['port'], context=ctx(), timeout=20)
        p.user(P['user'])
        p.pass_(P['password'])
        emit(ev='session')
        resp, lines, _ = p.uidl()
        for line in lines:
            n, uidl = line.decode('latin1').split(' ', 1)
            if uidl in seen:
                continue
            try:
                resp, body, _ = p.retr(int(n))
            except poplib.error_proto as e:
                emit(ev='no', text=str(e)[:300])
                continue
            mid, sha = digest(b'\r\n'.join(body) + b'\r\n')
            emit(ev='read', uidl=uidl, mid=mid, sha=sha)
            seen.add(uidl)
            if time.time() >= DEADLINE:
                break
        p.quit()
        p = None
        time.sleep(1.0)
    except Exception as e:
        emit(ev='error', text=type(e).__name__ + ': ' + str(e)[:200])
        time.sleep(0.5)
    finally:
        try:
            if p is not None:
                p.close()
        except Exception:
            pass
`;

export interface ReaderLine {
  ev: 'session' | 'read' | 'no' | 'error';
  mid?: string | null;
  sha?: string;
  text?: string;
}

export interface Reader {
  readonly proto: 'imap' | 'pop3';
  readonly reads: { mid: string | null; sha: string }[];
  readonly counts: Record<ReaderLine['ev'], number>;
  readonly errors: string[];
  stop(): Promise<void>;
}

export function startReader(proto: 'imap' | 'pop3', p: { port: number; ca: string; user: string; password: string; seconds: number }): Reader {
  const child: ChildProcess = spawn(PYTHON, ['-c', COMMON + (proto === 'imap' ? IMAP : POP3)], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', SOAK_READER: JSON.stringify(p) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const reads: Reader['reads'] = [];
  const counts = { session: 0, read: 0, no: 0, error: 0 };
  const errors: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  createInterface({ input: child.stdout! }).on('line', (l) => {
    let x: ReaderLine;
    try {
      x = JSON.parse(l) as ReaderLine;
    } catch {
      return;
    }
    counts[x.ev]++;
    if (x.ev === 'read') reads.push({ mid: x.mid ?? null, sha: x.sha ?? '' });
    else if ((x.ev === 'error' || x.ev === 'no') && errors.length < 200) errors.push(x.text ?? '');
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    proto,
    reads,
    counts,
    errors,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      if (stderr.trim()) errors.push(`stderr: ${stderr.trim().slice(-500)}`);
    },
  };
}
