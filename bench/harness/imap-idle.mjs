// An IMAP client that logs in over TLS, selects INBOX and stays in IDLE,
// timing every "* N EXISTS" it is sent. Lines are bounded (8 KiB); the
// login has a deadline.
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';

export function idleWatcher({ port, user, password, timeoutMs = 30_000 }) {
  return new Promise((resolve, reject) => {
    const sock = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, servername: 'mail.bench.test' });
    const timer = setTimeout(() => (sock.destroy(), reject(new Error('IMAP login/IDLE timeout'))), timeoutMs);
    let buf = '';
    let step = 0;
    let base = -1;
    const arrivals = []; // performance.now() of each new message, in order
    sock.setEncoding('latin1');
    sock.on('error', (e) => (step < 4 ? reject(e) : undefined));
    sock.on('data', (d) => {
      buf += d;
      if (buf.length > 1024 * 1024) return sock.destroy(new Error('IMAP reply too long'));
      for (let eol; (eol = buf.indexOf('\r\n')) >= 0; ) {
        const line = buf.slice(0, eol);
        buf = buf.slice(eol + 2);
        if (line.length > 8192) continue;
        const exists = /^\* (\d+) EXISTS/.exec(line);
        if (exists) {
          const n = Number(exists[1]);
          if (step < 4) base = n;
          else {
            const now = performance.now();
            while (base + arrivals.length < n) arrivals.push(now);
          }
        }
        if (step === 0 && line.startsWith('* OK')) {
          step = 1;
          sock.write(`a1 LOGIN "${user}" "${password}"\r\n`);
        } else if (step === 1 && line.startsWith('a1 ')) {
          if (!line.startsWith('a1 OK')) return reject(new Error(`LOGIN: ${line}`));
          step = 2;
          sock.write('a2 SELECT INBOX\r\n');
        } else if (step === 2 && line.startsWith('a2 ')) {
          if (!line.startsWith('a2 OK')) return reject(new Error(`SELECT: ${line}`));
          step = 3;
          sock.write('a3 IDLE\r\n');
        } else if (step === 3 && line.startsWith('+')) {
          step = 4;
          clearTimeout(timer);
          resolve({ arrivals, close: () => sock.destroy() });
        }
      }
    });
  });
}
