// Slot exhaustion: many connections from a few loopback addresses, each
// trickling one byte a second (slowloris), then a legitimate client from
// another address. Prints what the legitimate client was told.
// usage: node bench/slot-exhaustion.mjs <port> [addresses=25] [perAddress=20] [holdSeconds=5]
import net from 'node:net';
import { clearInterval, setInterval } from 'node:timers';

const [port, addrs = '25', per = '20', hold = '5'] = process.argv.slice(2);
if (!port) {
  console.error('usage: node bench/slot-exhaustion.mjs <port> [addresses] [perAddress] [holdSeconds]');
  process.exit(2);
}
const sockets = [];
let greeted = 0;
let refused = 0;
let cut = 0;

function open(localAddress) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port: Number(port), localAddress });
    let first = true;
    s.on('data', (d) => {
      if (!first) return;
      first = false;
      const t = d.toString();
      if (/^(220 |\+OK|\* OK)/.test(t)) greeted++;
      else refused++;
      resolve(t.split('\r\n')[0]);
    });
    s.on('error', () => resolve('error'));
    s.on('close', () => {
      cut++;
      resolve('closed');
    });
    sockets.push(s);
  });
}

const started = Date.now();
const opened = [];
for (let a = 0; a < Number(addrs); a++) for (let i = 0; i < Number(per); i++) opened.push(open(`127.0.${10 + Math.floor(a / 250)}.${(a % 250) + 1}`));
await Promise.race([Promise.all(opened), new Promise((r) => setTimeout(r, 5000))]);
console.log(`attackers: ${opened.length} connections from ${addrs} addresses; greeted ${greeted}, refused ${refused}`);
// Slowloris: a byte a second on every attacker connection (never a full line).
const trickle = setInterval(() => {
  for (const s of sockets) if (!s.destroyed) s.write('N');
}, 1000);
await new Promise((r) => setTimeout(r, Number(hold) * 1000));
const legit = await Promise.race([open('127.0.99.1'), new Promise((r) => setTimeout(() => r('no answer within 5 s'), 5000))]);
const alive = sockets.filter((s) => !s.destroyed).length - 1;
console.log(`after ${hold} s of trickling: ${alive} attacker connections still open (${cut} cut)`);
console.log(`legitimate client from 127.0.99.1 got: ${legit}`);
console.log(`elapsed ${((Date.now() - started) / 1000).toFixed(1)} s`);
clearInterval(trickle);
for (const s of sockets) s.destroy();
