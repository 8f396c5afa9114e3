/**
 * A real clamd for tests: a temp folder with a tiny signature database (the
 * EICAR marker as an .ndb body signature, built here so no file holds it, and
 * an .hdb hash of clamav-testfiles' clam.exe), a config listening on a Unix
 * socket and a free loopback TCP port, started and waited for (PONG), and
 * stopped by its pid. Never runs freshclam.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../process/postern-process.js';

export const TESTFILES = '/usr/share/clamav-testfiles';
export const EICAR_SIG = 'Test.EICAR.NDB.UNOFFICIAL';
export const TESTFILE_SIG = 'Test.ClamAV-TestFile.HDB.UNOFFICIAL';

/** The EICAR test file, assembled at run time. */
export function eicar(): string {
  const tail = ['EICAR', 'STANDARD', 'ANTIVIRUS', 'TEST', 'FILE'].join('-');
  return 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$' + tail + '!$H+H*';
}

function requireClamd(): void {
  if (!existsSync('/usr/sbin/clamd') || !existsSync(path.join(TESTFILES, 'clam.exe'))) {
    throw new Error('clamd or clamav-testfiles missing: apt-get install --no-install-recommends clamav-daemon clamdscan clamav-testfiles (scripts/test-env.sh does)');
  }
}

/** A MIME message with one attachment, base64-encoded as mail clients send it. */
export function mailWith(name: string, type: string, content: Uint8Array, opts: { encoding?: 'base64' | '7bit' } = {}): Buffer {
  const enc = opts.encoding ?? 'base64';
  const body = enc === 'base64' ? (Buffer.from(content).toString('base64').match(/.{1,76}/g) ?? []).join('\r\n') : Buffer.from(content).toString('latin1');
  return Buffer.from(
    [
      'From: a@example.org',
      'To: b@example.test',
      'Subject: files',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain',
      '',
      'see attached',
      '--b1',
      `Content-Type: ${type}; name="${name}"`,
      `Content-Disposition: attachment; filename="${name}"`,
      `Content-Transfer-Encoding: ${enc}`,
      '',
      body,
      '--b1--',
      '',
    ].join('\r\n'),
    'latin1',
  );
}

const hex = (s: string) => Buffer.from(s, 'latin1').toString('hex');

export class Clamd {
  private proc: ChildProcess | null = null;
  private log = '';

  private constructor(
    readonly dir: string,
    readonly socket: string,
    readonly port: number,
  ) {}

  static async create(opts: { streamMaxLength?: string } = {}): Promise<Clamd> {
    requireClamd();
    const dir = mkdtempSync(path.join(tmpdir(), 'postern-clamd-'));
    mkdirSync(path.join(dir, 'db'));
    const marker = ['EICAR', 'STANDARD', 'ANTIVIRUS', 'TEST', 'FILE'].join('-');
    writeFileSync(path.join(dir, 'db', 'test.ndb'), `Test.EICAR.NDB:0:*:${hex(marker)}\n`);
    const sample = readFileSync(path.join(TESTFILES, 'clam.exe'));
    writeFileSync(path.join(dir, 'db', 'test.hdb'), `${createHash('md5').update(sample).digest('hex')}:${sample.length}:Test.ClamAV-TestFile.HDB\n`);
    const port = await freePort();
    const socket = path.join(dir, 'clamd.sock');
    writeFileSync(
      path.join(dir, 'clamd.conf'),
      [
        `DatabaseDirectory ${dir}/db`,
        `LocalSocket ${socket}`,
        `TCPSocket ${port}`,
        'TCPAddr 127.0.0.1',
        'Foreground yes',
        'ScanMail yes',
        'ScanArchive yes',
        `StreamMaxLength ${opts.streamMaxLength ?? '25M'}`,
        'MaxThreads 8',
        'SelfCheck 0',
        '',
      ].join('\n'),
    );
    const c = new Clamd(dir, socket, port);
    await c.start();
    return c;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  async start(): Promise<void> {
    if (this.proc) return;
    const p = spawn('/usr/sbin/clamd', ['-c', path.join(this.dir, 'clamd.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = p;
    p.stdout!.on('data', (d: Buffer) => (this.log = (this.log + d.toString()).slice(-8000)));
    p.stderr!.on('data', (d: Buffer) => (this.log = (this.log + d.toString()).slice(-8000)));
    p.once('exit', () => {
      if (this.proc === p) this.proc = null;
    });
    for (let i = 0; i < 300; i++) {
      if (!this.proc) throw new Error(`clamd exited:\n${this.log}`);
      if ((await this.command('PING').catch(() => '')) === 'PONG') return;
      await new Promise((r) => setTimeout(r, 100));
    }
    await this.stop();
    throw new Error(`clamd did not answer PING in 30 s:\n${this.log}`);
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
      p.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      p.kill('SIGTERM');
    });
    this.proc = null;
    rmSync(this.socket, { force: true });
  }

  /** Adds a body signature for `marker` in a new .ndb and makes clamd reload, waiting until it scans with it. */
  async addSignature(name: string, marker: string): Promise<void> {
    writeFileSync(path.join(this.dir, 'db', `${name}.ndb`), `${name}:0:*:${hex(marker)}\n`);
    if ((await this.command('RELOAD')) !== 'RELOADING') throw new Error('clamd did not reload');
    for (let i = 0; i < 200; i++) {
      if ((await this.command('PING').catch(() => '')) === 'PONG') {
        const reply = await this.scanRaw(Buffer.from(`x ${marker} x`));
        if (reply.includes(name)) return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('clamd did not load the new signature in 20 s');
  }

  /** One z-command over the Unix socket; the reply without its NUL. */
  command(cmd: string, body?: Uint8Array): Promise<string> {
    return new Promise((resolve, reject) => {
      const s = createConnection({ path: this.socket });
      let out = '';
      s.setTimeout(10_000, () => s.destroy(new Error('clamd command timed out')));
      s.on('error', reject);
      s.on('data', (d: Buffer) => (out += d.toString('latin1')));
      s.on('close', () => resolve(out.replace(/\0/g, '').trim()));
      s.on('connect', () => {
        s.write(`z${cmd}\0`);
        if (body) s.write(body);
      });
    });
  }

  scanRaw(data: Uint8Array): Promise<string> {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.byteLength);
    return this.command('INSTREAM', Buffer.concat([len, data, Buffer.alloc(4)]));
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
