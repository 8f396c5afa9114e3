/**
 * Sends a day's TLS-RPT reports (RFC 8460 5.3) to the rua= destinations each
 * recipient domain publishes at `_smtp._tls.<domain>`: mailto: as a report
 * mail through our own queue (so it is DKIM-signed and delivered, retried and
 * bounced like any mail), https: as a POST of the gzip'd JSON. Each domain
 * and day is sent once: `tlsrpt.sent` (or `tlsrpt.skipped` when the domain
 * publishes no usable record) is written to the store before the next domain,
 * and a domain already there is left alone. A domain whose every destination
 * failed gets `tlsrpt.failed` and is tried again on a later run, at most
 * MAX_ATTEMPTS times.
 */
import { randomInt } from 'node:crypto';
import { request } from 'node:https';
import { rootCertificates } from 'node:tls';
import type { Clock } from '../../core/clock.js';
import { newQueueId } from '../../core/ids.js';
import { domainOf } from '../../core/address.js';
import type { Directory } from '../../directory/directory.js';
import type { Logger } from '../../metrics/logger.js';
import type { DnsResolver } from '../../net/dns/types.js';
import { resolverLookup } from '../../policy/tls/index.js';
import type { Spool } from '../../queue/spool.js';
import type { EventRepo, NewRecipient } from '../../store/types.js';
import { dayRange, tlsReportsForDay, type TlsReport } from './tlsrpt.js';
import { gzipReport, parseTlsRptRecord, reportMail } from './tlsrpt-mail.js';

export const MAX_ATTEMPTS = 3;
/** At most this many tlsrpt.* events of each kind are read per run (one per domain and day and attempt). */
const MAX_EVENTS = 200_000;

export interface TlsReportSenderDeps {
  readonly events: EventRepo;
  readonly resolver: DnsResolver;
  readonly spool: Spool;
  /** Routes a mailto: address of one of our own domains to its mailbox. */
  readonly directory?: Directory;
  readonly clock: Clock;
  readonly log: Logger;
}

export interface TlsReportSenderOptions {
  /** Our host name: submitter, sending MTA, organization unless given. */
  readonly hostname: string;
  /** From: of the report mail; default tls-reports@<hostname>. */
  readonly from?: string;
  readonly organization?: string;
  readonly contact?: string;
  /** Extra trust anchors (PEM) for https: destinations, beside the system's. */
  readonly extraCa?: readonly string[];
  readonly httpsTimeoutMs?: number;
}

export type TargetOutcome = { target: string; ok: true; queueId?: string } | { target: string; ok: false; reason: string };

export interface DomainOutcome {
  readonly domain: string;
  readonly result: 'sent' | 'skipped' | 'failed' | 'already';
  readonly detail?: string;
  readonly targets: readonly TargetOutcome[];
}

export class TlsReportSender {
  private readonly ca: string[] | undefined;

  constructor(
    private readonly d: TlsReportSenderDeps,
    private readonly o: TlsReportSenderOptions,
  ) {
    this.ca = o.extraCa?.length ? [...rootCertificates, ...o.extraCa] : undefined;
  }

  /** Builds the day's reports and sends each domain's that was not sent yet. */
  async sendDay(day: string): Promise<DomainOutcome[]> {
    const host = this.o.hostname;
    const reports = await tlsReportsForDay(this.d.events, { day, organization: this.o.organization ?? host, contact: this.o.contact ?? `postmaster@${host}`, sendingMta: host });
    const done = reports.length > 0 ? await this.done(day) : new Set<string>();
    const out: DomainOutcome[] = [];
    for (const r of reports) out.push(done.has(r.domain) ? { domain: r.domain, result: 'already', targets: [] } : await this.sendOne(day, r));
    return out;
  }

  private async sendOne(day: string, r: TlsReport): Promise<DomainOutcome> {
    const rec = (kind: string, data: Record<string, unknown>) => this.d.events.record(kind, r.domain, { day, ...data }, this.d.clock.now());
    const answer = await this.d.resolver.txt(`_smtp._tls.${r.domain}`);
    if (answer.status === 'temperror') {
      await rec('tlsrpt.failed', { reason: `DNS: ${answer.reason}`.slice(0, 200) });
      return { domain: r.domain, result: 'failed', detail: answer.reason, targets: [] };
    }
    const parsed = parseTlsRptRecord(answer.status === 'ok' ? answer.records : []);
    if ('error' in parsed) {
      await rec('tlsrpt.skipped', { reason: parsed.error });
      return { domain: r.domain, result: 'skipped', detail: parsed.error, targets: [] };
    }
    const targets: TargetOutcome[] = [];
    for (const t of parsed.targets) targets.push(t.kind === 'mailto' ? await this.mail(r, t.address) : await this.post(r, t.url));
    const ok = targets.filter((t) => t.ok).map((t) => t.target);
    const failed = targets.flatMap((t) => (t.ok ? [] : [`${t.target}: ${t.reason}`]));
    if (ok.length > 0) {
      await rec('tlsrpt.sent', { targets: ok, failed });
      this.d.log.info({ domain: r.domain, day, targets: ok, failed }, 'TLS report sent');
      return { domain: r.domain, result: 'sent', targets };
    }
    await rec('tlsrpt.failed', { reason: failed.join('; ').slice(0, 500) });
    this.d.log.warn({ domain: r.domain, day, failed }, 'TLS report could not be sent');
    return { domain: r.domain, result: 'failed', detail: failed.join('; '), targets };
  }

  /**
   * The domains of a day that are done: sent or skipped, or failed
   * MAX_ATTEMPTS times. Read once per run, from the day's end until now.
   */
  private async done(day: string): Promise<Set<string>> {
    const since = dayRange(day).end;
    const until = this.d.clock.now() + 1;
    const of = async (kind: string) => (await this.d.events.between(kind, since, until, MAX_EVENTS)).filter((e) => e.data.day === day).map((e) => e.subject);
    const done = new Set([...(await of('tlsrpt.sent')), ...(await of('tlsrpt.skipped'))]);
    const failures = new Map<string, number>();
    for (const d of await of('tlsrpt.failed')) failures.set(d, (failures.get(d) ?? 0) + 1);
    for (const [d, n] of failures) if (n >= MAX_ATTEMPTS) done.add(d);
    return done;
  }

  private async mail(r: TlsReport, to: string): Promise<TargetOutcome> {
    const target = `mailto:${to}`;
    try {
      const now = this.d.clock.now();
      const queueId = newQueueId(now);
      await this.d.spool.accept({
        queueId,
        data: reportMail(r, { from: this.o.from ?? `tls-reports@${this.o.hostname}`, to, submitter: this.o.hostname, now, messageId: `${queueId}.tlsrpt@${this.o.hostname}` }),
        sender: '', // a report is never bounced back into a loop
        recipients: await this.recipients(to),
        source: 'local',
        clientAddress: '127.0.0.1',
        authUser: null,
        meta: { tlsrpt: r.domain },
      });
      return { target, ok: true, queueId };
    } catch (err) {
      return { target, ok: false, reason: err instanceof Error ? err.message : String(err) };
    }
  }

  private async recipients(to: string): Promise<NewRecipient[]> {
    const dir = this.d.directory;
    if (!dir || !(await dir.isLocalDomain(domainOf(to)))) return [{ address: to, transport: 'remote' }];
    const found = await dir.expandRecipient(to);
    const out: NewRecipient[] = [...(found?.local ?? []).map((a) => ({ address: a.address, transport: 'local' as const, accountId: a.id })), ...(found?.remote ?? []).map((a) => ({ address: a, transport: 'remote' as const }))];
    if (out.length === 0) throw new Error(`${to} is one of our domains but reaches no mailbox`);
    return out;
  }

  /** RFC 8460 5.4: POST the gzip'd report; any 2xx is success; redirects are not followed. */
  private post(r: TlsReport, url: string): Promise<TargetOutcome> {
    const target = url;
    const { body } = gzipReport(r);
    const timeoutMs = this.o.httpsTimeoutMs ?? 30_000;
    const u = new URL(url);
    return new Promise((resolve) => {
      let settled = false;
      const finish = (o: TargetOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        resolve(o);
      };
      const timer = setTimeout(() => finish({ target, ok: false, reason: `no answer within ${timeoutMs} ms` }), timeoutMs);
      const req = request(
        {
          host: u.hostname.replace(/^\[|\]$/g, ''),
          port: u.port === '' ? 443 : Number(u.port),
          path: `${u.pathname}${u.search}`,
          method: 'POST',
          lookup: resolverLookup(this.d.resolver),
          servername: u.hostname,
          ca: this.ca,
          rejectUnauthorized: true,
          agent: false,
          headers: { 'content-type': 'application/tlsrpt+gzip', 'content-length': String(body.length), 'user-agent': 'postern' },
        },
        (res) => {
          const status = res.statusCode ?? 0;
          res.resume(); // the answer's body is never read
          finish(status >= 200 && status < 300 ? { target, ok: true } : { target, ok: false, reason: `HTTP ${status}` });
        },
      );
      req.on('error', (e: NodeJS.ErrnoException) => finish({ target, ok: false, reason: `${e.code ?? ''} ${e.message}`.trim() }));
      req.end(body);
    });
  }
}

/** The UTC day before `now`, YYYY-MM-DD. */
export function previousDay(now: number): string {
  return new Date(now - 86_400_000).toISOString().slice(0, 10);
}

/**
 * Once a day, after 00:00 UTC and a random delay (so servers do not all
 * report at the same second), sends yesterday's reports; it looks again
 * every hour, so a domain that failed is retried and a node that was down
 * at midnight catches up. Errors are logged, never thrown.
 */
export class TlsReportTimer {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly sender: TlsReportSender,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly o: { maxDelayMs?: number; intervalMs?: number } = {},
  ) {}

  start(): void {
    this.schedule(this.delay());
  }

  private delay(): number {
    const now = this.clock.now();
    const sinceMidnight = now % 86_400_000;
    const jitter = randomInt((this.o.maxDelayMs ?? 15 * 60_000) + 1);
    // Within the first hour of the day: wait for the jitter past midnight; otherwise run soon, then hourly.
    return sinceMidnight < jitter ? jitter - sinceMidnight : Math.min(jitter, 60_000);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => {
        this.running = null;
        this.schedule(this.o.intervalMs ?? 3_600_000);
      });
    }, ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const day = previousDay(this.clock.now());
    try {
      const done = await this.sender.sendDay(day);
      const sent = done.filter((d) => d.result === 'sent').length;
      if (sent > 0) this.log.info({ day, sent }, 'TLS reports sent');
    } catch (err) {
      this.log.error({ err, day }, 'TLS reports: the run failed; the next one tries again');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
