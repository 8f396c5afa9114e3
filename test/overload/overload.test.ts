/**
 * Overload, small and bounded: 300 MX sessions from 60 loopback addresses
 * (127.1.x.y) that each dribble a message, against smtp.max_connections =
 * 200, and 500 idle IMAP connections (127.2.x.y), while a legitimate client
 * on 127.0.0.1 sends over MX and submission and reads with Python's imaplib.
 * The full-size run is bench/overload.mjs. Needs `npm run build`.
 */
import { describe, expect, it } from 'vitest';
import { runOverload, spread } from './overload.mjs';

describe('overload', () => {
  it('stays up, answers only 2xx/3xx/4xx or refuses, bounds its memory, and still serves legitimate clients', { timeout: 240_000 }, async () => {
    const r = await runOverload({
      smtpSessions: 300,
      imapIdle: 500,
      perAddress: 5,
      imapPerAddress: 10,
      seconds: 25,
      dribbleMs: 3000,
      legit: 5,
      readWaitMs: 100_000,
      // Explicit, below the flood: the SMTP table fills and refuses with 421.
      limits: { smtpMax: 200, smtpPerClient: 20, imapMax: 1000, imapPerClient: 100 },
      log: (l) => console.log(l),
    });
    console.log(
      [
        'overload figures (300 MX sessions, 500 idle IMAP; smtp.max_connections 200)',
        `  postern alive ${r.alive}; RSS before ${r.memory.beforeKiB >> 10} MiB, with idle IMAP ${r.memory.afterImapKiB >> 10} MiB, peak ${r.memory.peakRssKiB >> 10} MiB, VmHWM ${r.memory.hwmKiB >> 10} MiB`,
        `  SMTP replies ${JSON.stringify(r.smtp.replies)}; sessions ${JSON.stringify(r.smtp.sessions)}; connection errors ${JSON.stringify(r.smtp.connErrors)}; messages accepted ${r.smtp.accepted}`,
        `  4xx seen: ${r.smtp.samples4xx.join(' | ')}`,
        `  IMAP idle: ${r.imap.open}/${r.imap.requested} greeted, closed early ${r.imap.closedEarly}, errors ${JSON.stringify(r.imap.errors)}`,
        `  time to the 220 greeting on submission during the flood: ${JSON.stringify(r.greeting)} ms; before it ${JSON.stringify(r.greetingQuiet)} ms`,
        `  legit MX ${r.legit.mx.ok} (first try ${r.legit.mx.firstTry}, retries ${r.legit.mx.retries}, latency ${JSON.stringify(spread(r.legit.mx.latencies))} ms)`,
        `  legit submission ${r.legit.sub.ok} (first try ${r.legit.sub.firstTry}, retries ${r.legit.sub.retries}, latency ${JSON.stringify(spread(r.legit.sub.latencies))} ms)`,
        `  legit IMAP read: found ${r.legit.read.found}/${r.legit.read.want} after ${r.legit.read.attempts} attempt(s), ${r.legit.read.ms} ms, before the flood ended ${r.legit.read.completedDuringFlood}; queue backlog at flood end ${r.backlogAtFloodEnd}`,
      ].join('\n'),
    );
    expect(r.alive, r.exit?.stderr).toBe(true);
    expect(r.smtp.replies['5xx'], r.smtp.samples5xx.join('\n')).toBe(0);
    expect(r.smtp.replies.other).toBe(0);
    expect(r.smtp.replies['4xx'] + (r.smtp.sessions.refused ?? 0), 'the flood exceeded the limit: some sessions were refused').toBeGreaterThan(0);
    expect(r.smtp.accepted).toBeGreaterThan(0);
    expect(r.imap.open).toBe(500);
    // Memory bounded: generous for 800 connections, far below what leaking every session would take.
    expect(r.memory.hwmKiB).toBeLessThan(1024 * 1024);
    expect(r.legit.mx.fatal).toEqual([]);
    expect(r.legit.sub.fatal).toEqual([]);
    expect(r.legit.mx.ok).toBe(5);
    expect(r.legit.sub.ok).toBe(5);
    expect(r.legit.read.found).toBe(10);
    expect(r.legit.after.ok).toBe(1);
  });
});
