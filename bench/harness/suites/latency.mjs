// latency: a message submitted over SMTP until an IMAP client in IDLE is
// told it exists, at a fixed rate (100 and 1,000 msg/s), p50/p95/p99.
// postern (mx -> queue -> mailbox -> IDLE) against Postfix -> Maildir ->
// Dovecot (IDLE by inotify). Messages are sent over 20 reused connections by
// a scheduler that starts message i at t0 + i/rate (late when every
// connection is busy: the wait counts in its latency); the k-th EXISTS
// announced is matched to the k-th message sent. "250 → EXISTS" matches the
// k-th EXISTS to the k-th 250 instead: the server's own delivery latency,
// without the wait at intake (a message scheduled while every connection
// is busy, or a slow 250). Every server first gets an unmeasured warm-up load.
import { startDovecot } from '../peers/dovecot.mjs';
import { postfixAvailable, startPostfix } from '../peers/postfix.mjs';
import { startPostern } from '../peers/postern.mjs';
import { plainRateSender } from '../smtp-client.mjs';
import { idleWatcher } from '../imap-idle.mjs';
import { sleep } from '../procs.mjs';
import { percentile, rotation } from '../stats.mjs';

const FROM = 'sender@remote.test';

export async function latencySuite({ reps, quick, only, root, rows, configs, problems, dns, tls }) {
  const servers = {};
  const want = (n) => !only || only.includes(n);
  if (want('postern')) {
    const p = await startPostern(root, { dns: dns.address, tls, imap: true });
    servers.postern = { smtpPort: p.port, imapPort: p.ports.imaps, user: p.rcpt, password: p.password };
    configs.postern = p.config + `; imaps on 127.0.0.1:${p.ports.imaps}`;
  }
  if (want('postfix') && postfixAvailable()) {
    const pf = await startPostfix(root, 'maildir', { tls });
    // Dovecot reads the Maildir virtual(8) writes; it must exist before the first login.
    const { mkdirSync } = await import('node:fs');
    for (const sub of ['new', 'cur', 'tmp']) mkdirSync(`${pf.maildir}/${sub}`, { recursive: true });
    const { run } = await import('../procs.mjs');
    await run('chown', ['-R', 'nobody:nogroup', pf.maildir.replace(/\/rcpt\/Maildir$/, '')]);
    const dv = await startDovecot(root, { maildir: pf.maildir, user: 'rcpt@bench.test', password: 'bench-Password-1', tls });
    servers['postfix+dovecot'] = { smtpPort: pf.port, imapPort: dv.port, user: 'rcpt@bench.test', password: 'bench-Password-1' };
    configs['postfix+dovecot'] = `${pf.config}; ${dv.config}`;
  } else if (want('postfix')) problems.push('Postfix is not installed: apt-get install postfix dovecot-imapd');
  const rates = [
    { rate: 100, messages: quick ? 200 : 3000 },
    { rate: 1000, messages: quick ? 1000 : 10_000 },
  ];
  const names = Object.keys(servers);
  // Not measured: every server first takes a short load, so the first cell does not carry anyone's
  // start-up (JIT compilation, threads started on first use, first folders); its mail is announced before the cells begin.
  const WARM = quick ? 100 : 1000;
  for (const name of names) {
    const s = servers[name];
    const watcher = await idleWatcher({ port: s.imapPort, user: s.user, password: s.password });
    try {
      const sent = await plainRateSender({ port: s.smtpPort, sessions: 20, rate: 200, messages: WARM, from: FROM, to: s.user });
      const end = Date.now() + 120_000;
      while (watcher.arrivals.length < sent.times.length && Date.now() < end) await sleep(20);
      if (sent.failed || watcher.arrivals.length < sent.times.length) problems.push(`${name}: warm-up incomplete (${sent.failed} refused, ${sent.times.length - watcher.arrivals.length} not announced)`);
    } finally {
      watcher.close();
    }
  }
  configs.warmup = `before the cells, not measured: ${WARM} messages at 200 msg/s to every server, each announced to IDLE before the first cell`;
  for (const { rate, messages } of rates) {
    for (let r = 0; r < reps; r++) {
      for (const name of rotation(names, r)) {
        const s = servers[name];
        const watcher = await idleWatcher({ port: s.imapPort, user: s.user, password: s.password });
        try {
          const sent = await plainRateSender({ port: s.smtpPort, sessions: 20, rate, messages, from: FROM, to: s.user });
          // Wait (bounded) until every message has been announced.
          const end = Date.now() + 120_000;
          while (watcher.arrivals.length < sent.times.length && Date.now() < end) await sleep(20);
          const lat = sent.times.map((t, i) => (watcher.arrivals[i] ?? NaN) - t);
          const missing = lat.filter((x) => !Number.isFinite(x)).length;
          if (missing || sent.failed) problems.push(`${name} at ${rate}/s: ${sent.failed} refused, ${missing} never announced to IDLE within 120 s (${sent.firstError ?? ''})`);
          for (const p of [50, 95, 99]) rows.add(`${rate} msg/s × ${messages}: submission → IDLE EXISTS, p${p}`, 'ms', 'lower', name, percentile(lat, p));
          const after = sent.accepted.map((t, i) => (watcher.arrivals[i] ?? NaN) - t);
          for (const p of [50, 95, 99]) rows.add(`${rate} msg/s × ${messages}: 250 → IDLE EXISTS, p${p}`, 'ms', 'lower', name, percentile(after, p));
          rows.add(`${rate} msg/s × ${messages}: rate actually sent`, 'msg/s', 'higher', name, sent.times.length / sent.seconds);
          console.error(`  ${rate}/s | ${name} | rep ${r + 1}: p50 ${percentile(lat, 50).toFixed(1)} ms, p99 ${percentile(lat, 99).toFixed(1)} ms; after the 250: p50 ${percentile(after, 50).toFixed(1)} ms, p99 ${percentile(after, 99).toFixed(1)} ms`);
        } finally {
          watcher.close();
        }
      }
    }
  }
  configs.load = `20 SMTP connections (plain, reused), 4 KiB messages started at a fixed rate; one IMAP IDLE client over TLS; performance.now() of the message start to its EXISTS`;
}
