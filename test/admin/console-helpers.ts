/**
 * Helpers for the console tests: a small HTTPS client with a cookie jar
 * (node:https, the installation's certificate as the only CA, the console's
 * host name mapped to loopback), real mail over SMTP with Python's smtplib,
 * and waiting for the quarantine.
 */
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { cli, type Installation } from '../process/postern-process.js';
import { run } from '../support/procs.js';

export const HOST = 'mail.example.test';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One browser-like client: keeps the session cookie, sends Origin on POST unless told otherwise. */
export class ConsoleClient {
  cookie = '';
  constructor(private readonly inst: Installation) {}

  get origin(): string {
    return `https://${HOST}:${this.inst.ports.admin!}`;
  }

  send(method: 'GET' | 'POST', p: string, opts: { form?: Record<string, string>; json?: unknown; origin?: string | null; cookie?: string } = {}): Promise<Answer> {
    const body = opts.form ? new URLSearchParams(opts.form).toString() : opts.json !== undefined ? JSON.stringify(opts.json) : '';
    const headers: Record<string, string> = { Host: `${HOST}:${this.inst.ports.admin!}` };
    const cookie = opts.cookie ?? this.cookie;
    if (cookie) headers.Cookie = cookie;
    if (method === 'POST') {
      headers['Content-Type'] = opts.form ? 'application/x-www-form-urlencoded' : 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(body));
      const origin = opts.origin === undefined ? this.origin : opts.origin;
      if (origin !== null) headers.Origin = origin;
    }
    return new Promise((resolve, reject) => {
      const req = request(
        // A connection per request: the CLI runs synchronously between requests, and a kept-alive socket
        // the server closed meanwhile (5 s idle) would be reused before the client noticed.
        { host: '127.0.0.1', port: this.inst.ports.admin!, servername: HOST, method, path: p, headers, ca: readFileSync(path.join(this.inst.dir, 'tls/cert.pem')), timeout: 20_000, agent: false },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (b: Buffer) => chunks.push(b));
          res.on('end', () => {
            const set = res.headers['set-cookie'];
            const mine = set?.find((c) => c.startsWith('__Host-postern-session='));
            if (mine) this.cookie = mine.split(';')[0]!;
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('request timed out')));
      req.on('error', reject);
      req.end(body);
    });
  }

  get(p: string): Promise<Answer> {
    return this.send('GET', p);
  }

  /** The CSRF token of the last page's forms. */
  static csrf(a: Answer): string {
    const m = /name="csrf" value="([^"]+)"/.exec(a.body);
    if (!m) throw new Error(`no CSRF field in the page (status ${a.status}): ${a.body.slice(0, 300)}`);
    return m[1]!;
  }

  /** Opens the login page and posts the password; returns the answer (303 to the next step when right). */
  async login(address: string, password: string): Promise<Answer> {
    this.cookie = '';
    const page = await this.get('/console/login');
    return this.send('POST', '/console/login', { form: { csrf: ConsoleClient.csrf(page), address, password } });
  }

  /** Posts a form with the CSRF token of the page at `from`. */
  async post(from: string, action: string, form: Record<string, string> = {}): Promise<Answer> {
    const page = await this.get(from);
    return this.send('POST', action, { form: { csrf: ConsoleClient.csrf(page), ...form } });
  }
}

export function enrollmentCode(inst: Installation, address: string): string {
  const r = cli(inst, ['console', 'enroll', address]);
  if (r.status !== 0) throw new Error(`console enroll failed: ${r.stderr}`);
  const m = /: ([A-Z2-7]{4}(?:-[A-Z2-7]{4}){4})\n/.exec(r.stdout);
  if (!m) throw new Error(`no code in: ${r.stdout}`);
  return m[1]!;
}

const SEND = String.raw`
import os, smtplib
from email.message import EmailMessage
m = EmailMessage()
m['From'] = os.environ['FROM']; m['To'] = os.environ['TO']; m['Subject'] = os.environ['SUBJECT']
m.set_content('Hello from a real SMTP client.\n')
if os.environ.get('ATTACH'):
    m.add_attachment(b'MZ' + b'\x00' * 64, maintype='application', subtype='octet-stream', filename=os.environ['ATTACH'])
with smtplib.SMTP('127.0.0.1', int(os.environ['PORT']), timeout=20) as s:
    s.ehlo('client.remote.test')
    s.send_message(m)
`;

/** Sends one message to the MX listener with Python's smtplib; `attach` adds a small file of that name. */
export async function sendMail(inst: Installation, o: { from: string; to: string; subject: string; attach?: string }): Promise<void> {
  const r = await run('/usr/bin/python3', ['-c', SEND], {
    env: { PORT: String(inst.ports.mx), FROM: o.from, TO: o.to, SUBJECT: o.subject, ATTACH: o.attach ?? '' },
    timeoutMs: 30_000,
  });
  if (r.code !== 0) throw new Error(`smtplib failed: ${r.stderr}`);
}

export interface HeldRow {
  queueId: string;
  state: string;
  actor: string | null;
  recipients: string[];
}

/** The quarantine as `postern quarantine list --all --json` prints it. */
export function quarantine(inst: Installation): HeldRow[] {
  const r = cli(inst, ['quarantine', 'list', '--all', '--json']);
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as HeldRow[];
}

export async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (let waited = 0; waited <= ms; waited += 250) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** RFC 4648 base32 (no padding) to bytes: the TOTP secret the console shows. */
export function unbase32(s: string): Uint8Array {
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of s) {
    value = (value << 5) | A.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return new Uint8Array(out);
}
