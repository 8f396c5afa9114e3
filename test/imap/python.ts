/**
 * Runs a Python script that drives the server with the standard library's
 * imaplib, a client nobody at postern wrote. Debian's /usr/bin/python3 is used
 * on purpose (the python3 first on PATH may be a separate install). The script
 * gets its parameters as JSON in IMAP_TEST_PARAMS and hands its results back
 * with emit(); imaplib's protocol trace goes to stderr and is shown when a
 * script fails, so a failure carries the exact exchange.
 */
import { spawn } from 'node:child_process';
import type { Harness, TestUser } from './harness.js';

export const PYTHON = '/usr/bin/python3';

const PRELUDE = String.raw`
import base64, imaplib, json, os, re, socket, ssl, sys
P = json.loads(os.environ['IMAP_TEST_PARAMS'])
imaplib.Debug = 4
imaplib._MAXLINE = 10_000_000

def ctx():
    return ssl.create_default_context(cafile=P['caFile'])

def tls():
    return imaplib.IMAP4_SSL('127.0.0.1', P['tlsPort'], ssl_context=ctx(), timeout=30)

def starttls():
    m = imaplib.IMAP4('127.0.0.1', P['port'], timeout=30)
    m.starttls(ssl_context=ctx())
    return m

def login(m, user=None):
    u = user or P['user']
    m.login(u['address'], u['password'])
    return m

def short(v, n=600):
    r = repr(v)
    return r if len(r) <= n else r[:n] + '...(%d chars)' % len(r)

def b64(b):
    return base64.b64encode(b).decode('ascii')

def ok(res, what=''):
    typ, data = res
    if typ != 'OK':
        raise AssertionError('%s: %s %s' % (what, typ, short(data)))
    return data

def literals(data):
    return [part[1] for part in data if isinstance(part, tuple)]

def one_literal(data, what=''):
    lits = literals(data)
    if len(lits) != 1:
        raise AssertionError('%s: expected one literal, got %s' % (what, short(data)))
    return lits[0]

def nums(data):
    """The numbers of a SEARCH response."""
    out = []
    for d in data:
        if d:
            out += [int(x) for x in d.split()]
    return sorted(out)

def untagged_lines(m, tag, limit=200):
    """Reads raw lines up to the tagged reply; returns (untagged lines, tagged line)."""
    lines = []
    for _ in range(limit):
        line = m._get_line()
        if line.startswith(tag + b' '):
            return lines, line
        lines.append(line)
    raise AssertionError('no tagged reply after %d lines' % limit)

_results = {}
def emit(key, value):
    _results[key] = value

def _finish():
    sys.stdout.write('\n@@RESULT@@' + json.dumps(_results) + '\n')
`;

export interface PyParams {
  caFile: string;
  tlsPort: number;
  port: number;
  user: { address: string; password: string };
  [k: string]: unknown;
}

export function pyParams(h: Harness, user: TestUser, extra: Record<string, unknown> = {}): PyParams {
  return { caFile: h.caFile, tlsPort: h.ports.tls, port: h.ports.starttls, user: { address: user.address, password: user.password }, ...extra };
}

/** Indents a script body so it runs inside the prelude's try/finally. */
function wrap(body: string): string {
  const indented = body
    .replace(/^\n+/, '')
    .split('\n')
    .map((l) => '    ' + l)
    .join('\n');
  return `${PRELUDE}\ntry:\n${indented}\n    pass\nfinally:\n    _finish()\n`;
}

const TRACE_TAIL = 6000;

/** Runs the script (killed after timeoutMs); resolves with what it emitted, rejects with its trace on error. */
export function runPython(body: string, params: PyParams, timeoutMs = 60_000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-'], {
      env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', IMAP_TEST_PARAMS: JSON.stringify(params) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      if (err.length > 4 * TRACE_TAIL) err = err.slice(-2 * TRACE_TAIL);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const at = out.lastIndexOf('\n@@RESULT@@');
      if (code !== 0 || at < 0) {
        reject(new Error(`python exited ${code ?? signal}\n--- imaplib trace (tail) ---\n${err.slice(-TRACE_TAIL)}`));
        return;
      }
      resolve(JSON.parse(out.slice(at + '\n@@RESULT@@'.length)) as Record<string, unknown>);
    });
    child.stdin.end(wrap(body));
  });
}

export const fromB64 = (v: unknown): Buffer => Buffer.from(String(v), 'base64');
