// What the SMTP library alone costs: a bare `smtp-server` (the version postern
// runs) in a child process that accepts every message and keeps nothing (no
// storage, no policy, no logging), under Postfix's smtp-source with 4 KiB
// messages, 20 sessions, with connection reuse (-d) and with a new connection
// per message. Prints msg/s and the sink's CPU per message (Linux /proc),
// beside which postern's own figures (bench/smtp-intake.mjs) say how much of
// postern's time per message is the library's. The new-connection cell runs
// twice: as smtp-server greets by itself (it waits a fixed 100 ms before every
// 220) and with postern's way of starting a connection (greeting at once).
// Bounded by --messages and --seconds; loopback only.
//
//   node bench/smtp-library.mjs [--messages 10000] [--runs 3] [--seconds 120] [--port 31025]
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { opt, serverCpu, sh, waitForPort } from './process-probe.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const MESSAGES = Number(opt('messages', 10_000));
const RUNS = Number(opt('runs', 3));
const SECONDS = Number(opt('seconds', 120));
const PORT = Number(opt('port', 31025));

// The sink: onData drains the stream and answers 250. `prompt` starts the
// session the way postern's listener does (src/smtp/listener.ts): connectionReady
// without smtp-server's 100 ms early-talker pause.
const SINK = `
import { SMTPServer } from 'smtp-server';
const [port, prompt] = [Number(process.argv[1]), process.argv[2] === 'prompt'];
const server = new SMTPServer({
  disabledCommands: ['AUTH', 'STARTTLS'], logger: false, size: 10 << 20, socketTimeout: 30000,
  onData(stream, session, done) { stream.on('data', () => {}); stream.on('end', () => done(null, 'ok')); },
});
if (prompt) {
  // smtp-server's init() waits 100 ms before its greeting; postern's connection class starts without it.
  const { SMTPConnection } = await import('smtp-server/lib/smtp-connection.js');
  SMTPConnection.prototype.init = function () {
    this._setListeners(() => this.connectionReady());
  };
}
server.listen(port, '127.0.0.1');
`;

async function startSink(prompt) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', SINK, String(PORT), prompt ? 'prompt' : 'plain'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForPort(PORT);
  return child;
}

async function source(reuse) {
  const args = ['-s', '20', '-m', String(MESSAGES), '-l', '4096', '-f', 'sender@example.net', '-t', 'rcpt@bench.test', ...(reuse ? ['-d'] : []), `127.0.0.1:${PORT}`];
  const t = process.hrtime.bigint();
  await sh('/usr/sbin/smtp-source', args, undefined, SECONDS * 1000);
  return Number(process.hrtime.bigint() - t) / 1e9;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const CELLS = [
  ['reuse (-d)', false, true],
  ['new connection, greeting at once', true, false],
  ['new connection, smtp-server greeting (100 ms pause)', false, false],
];

const pkg = JSON.parse(await (await import('node:fs/promises')).readFile(path.join(root, 'node_modules/smtp-server/package.json'), 'utf8'));
console.log(`smtp-server ${pkg.version}, node ${process.version}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
for (const [name, prompt, reuse] of CELLS) {
  const rates = [];
  const cpu = [];
  for (let r = 0; r < RUNS; r++) {
    const sink = await startSink(prompt);
    try {
      await source(reuse); // warm-up: the JIT, as every server in the smtp suite gets
      const before = serverCpu(sink.pid);
      const s = await source(reuse);
      const after = serverCpu(sink.pid);
      rates.push(MESSAGES / s);
      cpu.push(((after.all - before.all) * 1000) / MESSAGES);
    } finally {
      const exited = new Promise((res) => sink.once('exit', res));
      sink.kill('SIGTERM');
      await exited;
    }
  }
  console.log(`${name.padEnd(52)} ${median(rates).toFixed(0).padStart(6)} msg/s   sink CPU ${median(cpu).toFixed(3)} ms/msg   runs: ${rates.map((x) => x.toFixed(0)).join(' ')}`);
}
