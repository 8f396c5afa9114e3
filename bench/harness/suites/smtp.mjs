// smtp: the same loads against postern's mx and the peers, servers
// alternating between repetitions. smtp-source for plain SMTP, the harness's
// own client for STARTTLS; intake until delivered for postern and
// Postfix -> Maildir. postern runs twice: as `postern init` configures it
// and with its policy pipeline off (postern-bare). Every server first gets an
// unmeasured warm-up load.
import { startHaraka } from '../peers/haraka.mjs';
import { postfixAvailable, startPostfix } from '../peers/postfix.mjs';
import { startPostern } from '../peers/postern.mjs';
import { until } from '../procs.mjs';
import { smtpSource } from '../smtp-source.mjs';
import { starttlsLoad } from '../smtp-client.mjs';
import { rotation } from '../stats.mjs';

const FROM = 'sender@remote.test';

export async function smtpSuite(ctx) {
  const { reps, quick, rows, configs, problems } = ctx;
  const N = quick ? 300 : 5000;
  const N1 = quick ? 30 : 300;
  const servers = await startServers(ctx);
  const names = Object.keys(servers);
  const cells = [
    { cell: `smtp-source -s 20 -m ${N} -l 4096, new connection per message`, unit: 'msg/s', better: 'higher', sessions: 20, messages: N, reuse: false, e2e: true },
    { cell: `smtp-source -s 20 -m ${N} -l 4096 -d (connections reused)`, unit: 'msg/s', better: 'higher', sessions: 20, messages: N, reuse: true },
    { cell: `smtp-source -s 1 -m ${N1} -l 4096, new connection per message`, unit: 'ms/msg', better: 'lower', sessions: 1, messages: N1, reuse: false },
    { cell: `smtp-source -s 1 -m ${N1} -l 4096 -d, one connection`, unit: 'ms/msg', better: 'lower', sessions: 1, messages: N1, reuse: true },
    { cell: `STARTTLS, 20 sessions, ${N} msgs, new connection per message`, unit: 'msg/s', better: 'higher', sessions: 20, messages: N, reuse: false, tls: true },
    { cell: `STARTTLS, 20 sessions, ${N} msgs, connections reused`, unit: 'msg/s', better: 'higher', sessions: 20, messages: N, reuse: true, tls: true },
  ];
  // Not measured: every server first takes a short load over new and reused connections, so the
  // first cell does not carry anyone's start-up (JIT compilation of Node servers, threads started on
  // first use, a first folder or file created) and its mail is delivered before the cells begin.
  const WARM = quick ? 50 : 500;
  for (const name of names) {
    const s = servers[name];
    const before = s.delivered ? s.delivered() : 0;
    for (const reuse of [false, true]) {
      const res = await smtpSource({ port: s.port, sessions: 20, messages: WARM, reuse, from: FROM, to: s.rcpt, timeoutMs: 120_000 });
      if (!res.ok) problems.push(`${name}: warm-up not accepted (${res.firstError})`);
    }
    if (s.delivered) await until(() => s.delivered() >= before + 2 * WARM, { timeoutMs: 120_000, everyMs: 20, what: `${name} to deliver its warm-up` }).catch((e) => problems.push(e.message));
    if (s.queued) await until(() => s.queued() === 0, { timeoutMs: 120_000, what: `${name}'s queue to empty after its warm-up` }).catch((e) => problems.push(e.message));
  }
  configs.warmup = `before the cells, not measured: ${WARM} messages over new connections and ${WARM} over reused ones to every server (20 sessions), delivered before the first cell`;
  for (const c of cells) {
    for (let r = 0; r < reps; r++) {
      for (const name of rotation(names, r)) {
        const s = servers[name];
        const before = s.delivered ? s.delivered() : 0;
        const t0 = Date.now();
        let ok;
        let seconds;
        let firstError;
        if (c.tls) {
          const res = await starttlsLoad({ port: s.port, sessions: c.sessions, messages: c.messages, reuse: c.reuse, from: FROM, to: s.rcpt, deadlineMs: 600_000 });
          ok = res.failed === 0 && res.ok === c.messages;
          seconds = res.seconds;
          firstError = res.firstError;
        } else {
          const res = await smtpSource({ port: s.port, sessions: c.sessions, messages: c.messages, reuse: c.reuse, from: FROM, to: s.rcpt, timeoutMs: 600_000 });
          ok = res.ok;
          seconds = res.seconds;
          firstError = res.firstError;
        }
        const value = c.unit === 'msg/s' ? c.messages / seconds : (seconds * 1000) / c.messages;
        if (!ok) problems.push(`${name}, ${c.cell}, repetition ${r + 1}: not every message was accepted (${firstError})`);
        rows.add(c.cell, c.unit, c.better, name, ok ? value : NaN, ok ? undefined : 'errors');
        console.error(`  ${c.cell} | ${name} | rep ${r + 1}: ${value.toFixed(1)} ${c.unit}${ok ? '' : ' (errors)'}`);
        // Mail accepted must be delivered before the next server runs: its delivery would load the machine.
        if (s.delivered) {
          await until(() => s.delivered() >= before + c.messages, { timeoutMs: 600_000, everyMs: 20, what: `${name} to deliver ${c.messages} messages` }).catch((e) => problems.push(e.message));
          if (c.e2e) rows.add(`intake until delivered: ${c.cell}, last message in a mailbox`, 'msg/s', 'higher', name, c.messages / ((Date.now() - t0) / 1000));
        }
        if (s.queued) await until(() => s.queued() === 0, { timeoutMs: 600_000, what: `${name}'s queue to empty` }).catch((e) => problems.push(e.message));
      }
    }
  }
  for (const [name, s] of Object.entries(servers)) configs[name] = s.config;
}

async function startServers(ctx) {
  const { root, only, tls, dns, problems } = ctx;
  const want = (n) => !only || only.some((o) => n.startsWith(o));
  const servers = {};
  if (want('postern')) servers.postern = await startPostern(root, { dns: dns.address, tls });
  // The same build with every policy stage off: the difference is what the pipeline costs.
  if (want('postern-bare')) servers['postern-bare'] = await startPostern(root, { dns: dns.address, tls, pipeline: false });
  if (want('postfix')) {
    if (postfixAvailable()) {
      try {
        servers['postfix-discard'] = await startPostfix(root, 'discard', { tls });
        servers['postfix-maildir'] = await startPostfix(root, 'maildir', { tls });
      } catch (e) {
        problems.push(`Postfix not measured (its master must run as root): ${e.message.split('\n')[0]}`);
      }
    } else problems.push('Postfix is not installed: apt-get install postfix (or run with --install as root)');
  }
  if (want('haraka')) {
    try {
      servers['haraka-1'] = await startHaraka(root, 1, { tls });
      servers['haraka-2'] = await startHaraka(root, 2, { tls });
    } catch (e) {
      problems.push(`Haraka not measured: ${e.message.split('\n')[0]}`);
    }
  }
  return servers;
}
