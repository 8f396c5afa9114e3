// A small SMTP client for the STARTTLS cells (smtp-source has no TLS): N
// sessions in parallel, each sending its share of the messages over a new
// connection per message or over one connection, with STARTTLS before MAIL.
// Every read has a deadline; replies are read a line at a time, at most 64
// lines of at most 4 KiB per reply.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';

const REPLY_TIMEOUT_MS = 30_000;

class Session {
  constructor(sock) {
    this.attach(sock);
  }

  attach(sock) {
    this.sock = sock;
    this.buf = '';
    this.waiter = null;
    sock.setEncoding('latin1');
    sock.on('data', (d) => {
      this.buf += d;
      if (this.buf.length > 256 * 1024) this.fail(new Error('reply too long'));
      this.pump();
    });
    sock.on('error', (e) => this.fail(e));
    sock.on('close', () => this.fail(new Error('connection closed')));
  }

  fail(e) {
    const w = this.waiter;
    this.waiter = null;
    if (w) {
      clearTimeout(w.timer);
      w.reject(e);
    }
  }

  /** Completes the waiting reply when its last line ("NNN " form) is in. */
  pump() {
    const w = this.waiter;
    if (!w) return;
    for (;;) {
      const eol = this.buf.indexOf('\r\n');
      if (eol < 0) return;
      const line = this.buf.slice(0, eol);
      this.buf = this.buf.slice(eol + 2);
      if (++w.lines > 64 || line.length > 4096) return this.fail(new Error('malformed reply'));
      if (/^\d{3} /.test(line) || /^\d{3}$/.test(line)) {
        this.waiter = null;
        clearTimeout(w.timer);
        return w.resolve(line);
      }
    }
  }

  reply(expect) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error('reply timeout')), REPLY_TIMEOUT_MS);
      this.waiter = {
        lines: 0,
        timer,
        reject,
        resolve: (line) => (line.startsWith(expect) ? resolve(line) : reject(new Error(`expected ${expect}, got: ${line}`))),
      };
      this.pump();
    });
  }

  async cmd(text, expect) {
    this.sock.write(text + '\r\n');
    return this.reply(expect);
  }

  async starttls(ca, servername) {
    await this.cmd('STARTTLS', '220');
    const plain = this.sock;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    const secure = await new Promise((resolve, reject) => {
      const t = tls.connect({ socket: plain, ca, servername, rejectUnauthorized: Boolean(ca) }, () => resolve(t));
      t.once('error', reject);
      setTimeout(() => reject(new Error('TLS handshake timeout')), REPLY_TIMEOUT_MS);
    });
    this.attach(secure);
  }
}

function open(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1' }, () => resolve(new Session(s)));
    s.once('error', reject);
    s.setTimeout(REPLY_TIMEOUT_MS, () => s.destroy(new Error('socket timeout')));
  });
}

async function hello(port, ca, servername, starttls = true) {
  const s = await open(port);
  await s.reply('220');
  await s.cmd('EHLO client.bench.test', '250');
  if (!starttls) return s;
  await s.starttls(ca, servername);
  await s.cmd('EHLO client.bench.test', '250');
  return s;
}

async function send(s, from, to, body) {
  await s.cmd(`MAIL FROM:<${from}>`, '250');
  await s.cmd(`RCPT TO:<${to}>`, '250');
  await s.cmd('DATA', '354');
  s.sock.write(body);
  return s.reply('250');
}

/** A message of about `size` bytes with CRLF line ends, dot-terminated. */
export function messageOf(size, n) {
  const head = `From: <sender@remote.test>\r\nTo: <rcpt@bench.test>\r\nSubject: bench ${n}\r\nMessage-ID: <bench-${n}-${process.pid}@remote.test>\r\nDate: ${new Date().toUTCString().replace('GMT', '+0000')}\r\n\r\n`;
  const line = 'The quick brown fox jumps over the lazy dog 0123456789 abcdefghij.\r\n';
  const body = line.repeat(Math.max(1, Math.ceil((size - head.length) / line.length)));
  return head + body + '.\r\n';
}

/** Sends `messages` over STARTTLS from `sessions` parallel sessions; returns { ok, failed, seconds, firstError }. */
export async function starttlsLoad({ port, sessions, messages, reuse, size = 4096, from, to, ca, servername, deadlineMs = 300_000 }) {
  let next = 0;
  let ok = 0;
  let failed = 0;
  let firstError = null;
  const end = Date.now() + deadlineMs;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: sessions }, async () => {
      let s = null;
      while (next < messages && Date.now() < end) {
        const n = next++;
        try {
          s ??= await hello(port, ca, servername);
          await send(s, from, to, messageOf(size, n));
          ok++;
          if (!reuse) {
            await s.cmd('QUIT', '221').catch(() => undefined);
            s.sock.destroy();
            s = null;
          }
        } catch (e) {
          failed++;
          firstError ??= e.message;
          s?.sock.destroy();
          s = null;
        }
      }
      if (s) {
        await s.cmd('QUIT', '221').catch(() => undefined);
        s.sock.destroy();
      }
    }),
  );
  return { ok, failed, firstError, seconds: (performance.now() - t0) / 1000 };
}

/**
 * Plain SMTP at a fixed rate: message i is due at t0 + i/rate and is sent by
 * the first of `sessions` reused connections free then. Returns the due time
 * (performance.now()) of each message accepted, in order of acceptance.
 */
export async function plainRateSender({ port, sessions, rate, messages, size = 4096, from, to, deadlineMs = 300_000 }) {
  let next = 0;
  let failed = 0;
  let firstError = null;
  const times = [];
  /** When each 250 came (performance.now()), for the latency after intake. */
  const accepted = [];
  const end = Date.now() + deadlineMs;
  const t0 = performance.now() + 100;
  await Promise.all(
    Array.from({ length: sessions }, async () => {
      let s = null;
      while (next < messages && Date.now() < end) {
        const n = next++;
        const due = t0 + (n * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        try {
          s ??= await hello(port, undefined, undefined, false);
          await send(s, from, to, messageOf(size, n));
          // Recorded once accepted: with several sessions in flight, undoing a push
          // after a failure could remove another session's entry.
          times.push(due);
          accepted.push(performance.now());
        } catch (e) {
          failed++;
          firstError ??= e.message;
          s?.sock.destroy();
          s = null;
        }
      }
      if (s) {
        await s.cmd('QUIT', '221').catch(() => undefined);
        s.sock.destroy();
      }
    }),
  );
  times.sort((a, b) => a - b);
  accepted.sort((a, b) => a - b);
  return { times, accepted, failed, firstError, seconds: (performance.now() - t0) / 1000 };
}
