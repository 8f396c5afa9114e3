// Overload: many concurrent MX sessions from many loopback addresses
// (127.1.x.y, each dribbling a message) and many idle IMAP connections
// (127.2.x.y) against the built postern process, while a legitimate client on
// 127.0.0.1 sends over MX and submission and reads with Python's imaplib.
// Prints postern's peak RSS (VmHWM from /proc), the reply mix and what the
// legitimate client saw. Limits are set explicitly (see the flags).
//
//   npm run build && node bench/overload.mjs [--smtp 2000] [--imap 5000] [--seconds 45]
//       [--smtp-max 1000] [--smtp-per-client 20] [--imap-max 10000] [--imap-per-client 100]
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { runOverload, spread } from '../test/overload/overload.mjs';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? Number(process.argv[i + 1]) : fallback;
}
const SMTP = arg('smtp', 2000);
const IMAP = arg('imap', 5000);
const need = 2 * (SMTP + IMAP) + 1000; // this process's sockets, plus postern's (it inherits the limit)

// Each connection is a descriptor here and one in postern: raise the soft limit and run again if it is too low.
const soft = Number(/Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? 0);
if (soft < need && !process.env.OVERLOAD_REEXEC) {
  console.log(`open-file limit ${soft} < ${need}: raising it and running again`);
  const r = spawnSync('sh', ['-c', `ulimit -n ${need} && exec "$0" "$@"`, process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, OVERLOAD_REEXEC: '1' },
  });
  process.exit(r.status ?? 1);
}
if (soft < need) console.log(`WARNING: open-file limit ${soft} < ${need}; expect EMFILE`);

const limits = {
  smtpMax: arg('smtp-max', 1000),
  smtpPerClient: arg('smtp-per-client', 20),
  imapMax: arg('imap-max', 10000),
  imapPerClient: arg('imap-per-client', 100),
};
console.log(`overload: ${SMTP} MX sessions, ${IMAP} idle IMAP connections, limits ${JSON.stringify(limits)}, open-file limit ${soft}`);
const r = await runOverload({
  smtpSessions: SMTP,
  imapIdle: IMAP,
  perAddress: 5,
  imapPerAddress: 10,
  seconds: arg('seconds', 45), // below IMAP's 60 s login timeout, so the idle connections last the whole flood
  dribbleMs: arg('dribble-ms', 5000),
  legit: arg('legit', 10),
  limits,
  log: (l) => console.log(l),
});
const mib = (k) => `${(k / 1024).toFixed(0)} MiB`;
console.log(`postern alive at the end: ${r.alive}${r.exit ? ` (exit ${r.exit.code} ${r.exit.signal}): ${r.exit.stderr}` : ''}`);
console.log(`postern memory: before ${mib(r.memory.beforeKiB)}, with idle IMAP ${mib(r.memory.afterImapKiB)}, peak RSS ${mib(r.memory.peakRssKiB)}, VmHWM ${mib(r.memory.hwmKiB)}, at the end ${mib(r.memory.endKiB)}`);
console.log(`idle IMAP: ${r.imap.open}/${r.imap.requested} greeted in ${r.imap.openMs} ms, closed by the server before the end ${r.imap.closedEarly} (the first ${r.imap.firstClosedAfterMs ?? '-'} ms after the first connect), errors ${JSON.stringify(r.imap.errors)}, refused with BYE ${r.imap.bye ?? 0}, dropped without a greeting ${r.imap.closed ?? 0}, no greeting in 30 s ${r.imap['no-greeting'] ?? 0}`);
console.log(`SMTP replies: ${JSON.stringify(r.smtp.replies)}`);
console.log(`time to the 220 greeting on submission during the flood: median ${r.greeting.median} ms, p99 ${r.greeting.p99} ms, max ${r.greeting.max} ms over ${r.greeting.probes} probes, ${r.greeting.failed} failed (before the flood: median ${r.greetingQuiet.median} ms, p99 ${r.greetingQuiet.p99} ms)`);
console.log(`SMTP sessions: ${JSON.stringify(r.smtp.sessions)}; connection errors ${JSON.stringify(r.smtp.connErrors)}; messages accepted ${r.smtp.accepted}`);
console.log(`4xx texts: ${r.smtp.samples4xx.join(' | ') || '-'}; 5xx: ${r.smtp.samples5xx.join(' | ') || '-'}`);
for (const [k, t] of [['MX', r.legit.mx], ['submission', r.legit.sub], ['MX after the flood', r.legit.after]]) {
  const s = spread(t.latencies);
  console.log(`legitimate ${k}: ${t.ok} sent (${t.firstTry} on the first try, ${t.retries} retries, fatal ${t.fatal.length}); latency median ${s.median} ms, max ${s.max} ms`);
}
console.log(`queue backlog when the flood ended: ${r.backlogAtFloodEnd} recipient(s)`);
console.log(
  `legitimate IMAP read (imaplib): found ${r.legit.read.found}/${r.legit.read.want} after ${r.legit.read.attempts} attempt(s) and ${r.legit.read.ms} ms` +
    ` (${r.legit.read.completedDuringFlood ? 'during' : 'after'} the flood)${r.legit.read.error ? `; last error ${r.legit.read.error}` : ''}`,
);
