// TLS renegotiation pressure: N TLS 1.2 clients renegotiate in a loop for a
// few seconds against one listener; prints how many renegotiations the server
// performed and, given its pid, the CPU time it spent meanwhile.
// usage: node bench/renegotiation.mjs <port> [clients=4] [seconds=5] [serverPid]
import { readFileSync } from 'node:fs';
import tls from 'node:tls';

const [port, n = '4', secs = '5', pid] = process.argv.slice(2);
if (!port) {
  console.error('usage: node bench/renegotiation.mjs <port> [clients] [seconds] [serverPid]');
  process.exit(2);
}
const cpu = () => {
  if (!pid) return 0;
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10; // utime + stime, in ms (100 Hz ticks)
};
const until = Date.now() + Number(secs) * 1000;
let accepted = 0;
let refused = 0;
const cpu0 = cpu();

function client() {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port: Number(port), rejectUnauthorized: false, maxVersion: 'TLSv1.2' }, () => {
      const again = () => {
        if (Date.now() > until) return s.destroy(), resolve();
        const ok = s.renegotiate({ rejectUnauthorized: false }, (err) => {
          if (err) {
            refused++;
            s.destroy();
            return resolve();
          }
          accepted++;
          again();
        });
        if (!ok) {
          refused++;
          s.destroy();
          resolve();
        }
      };
      again();
    });
    s.on('error', () => {
      refused++;
      resolve();
    });
    s.on('data', () => undefined);
  });
}

await Promise.all(Array.from({ length: Number(n) }, client));
console.log(`renegotiations completed: ${accepted}, refused or cut: ${refused} (${n} clients, ${secs} s)`);
if (pid) console.log(`server CPU time meanwhile: ${cpu() - cpu0} ms`);
