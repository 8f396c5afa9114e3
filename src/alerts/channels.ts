/**
 * The two ways an alert leaves: a mail submitted to postern's own queue
 * (durable at once; local and remote recipients alike; sent from <> so it is
 * never bounced), and a signed webhook. Each records `alert.sent` when its
 * part is done, or a failure event, and never throws.
 */
import { newQueueId } from '../core/ids.js';
import type { Clock } from '../core/clock.js';
import { domainOf } from '../core/address.js';
import type { Directory } from '../directory/directory.js';
import type { Logger } from '../metrics/logger.js';
import type { Spool } from '../queue/spool.js';
import type { NewRecipient } from '../store/types.js';
import { alertMail, webhookBody, type Alert } from './alert.js';
import type { AlertChannel } from './alerter.js';
import type { EventSink } from './checks.js';
import { WebhookSender, type WebhookOptions } from './webhook.js';

const sentData = (channel: 'mail' | 'webhook', a: Alert) => ({ channel, kind: a.kind, severity: a.severity, summary: a.summary !== undefined });

export class MailChannel implements AlertChannel {
  readonly name = 'mail';

  constructor(
    private readonly spool: Spool,
    private readonly directory: Directory,
    private readonly o: { from: string; to: readonly string[]; host: string; windowNote: string },
    private readonly sink: EventSink,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  async send(a: Alert): Promise<void> {
    try {
      const recipients = await this.recipients();
      if (recipients.length === 0) throw new Error('no address in alerts.mail_to reaches a mailbox');
      const now = this.clock.now();
      const queueId = newQueueId(now);
      await this.spool.accept({
        queueId,
        data: alertMail(a, { from: this.o.from, to: this.o.to, now, messageId: `${queueId}.alert@${this.o.host}`, windowNote: this.o.windowNote }),
        sender: '', // an alert is never bounced
        recipients,
        source: 'local',
        clientAddress: '127.0.0.1',
        authUser: null,
        meta: { alert: a.kind },
      });
      this.sink.record('alert.sent', a.kind, { ...sentData('mail', a), queueId });
    } catch (err) {
      this.log.error({ err, kind: a.kind }, 'could not queue an alert mail');
      this.sink.record('alert.mail_failed', a.kind, { kind: a.kind, error: err instanceof Error ? err.message : String(err) });
    }
  }

  /** Resolved at each alert, so directory changes count at once; aliases are followed. */
  private async recipients(): Promise<NewRecipient[]> {
    const out = new Map<string, NewRecipient>();
    for (const to of this.o.to) {
      const found = await this.directory.expandRecipient(to);
      for (const acct of found?.local ?? []) out.set(acct.address, { address: acct.address, transport: 'local', accountId: acct.id });
      for (const r of found?.remote ?? []) out.set(r, { address: r, transport: 'remote' });
      if (!found && !(await this.directory.isLocalDomain(domainOf(to)))) out.set(to, { address: to, transport: 'remote' });
      else if (!found || found.local.length + found.remote.length === 0) this.log.warn({ to }, 'alerts.mail_to names a local address with no enabled mailbox');
    }
    return [...out.values()];
  }
}

export class WebhookChannel implements AlertChannel {
  readonly name = 'webhook';
  private readonly sender: WebhookSender<Alert>;

  constructor(o: WebhookOptions, sink: EventSink, clock: Clock, log: Logger) {
    this.sender = new WebhookSender<Alert>(
      o,
      {
        onSent: (a) => sink.record('alert.sent', a.kind, sentData('webhook', a)),
        onFailed: (a, cause, detail) => {
          log.error({ kind: a.kind, cause, detail }, 'alert webhook given up');
          sink.record('alert.webhook_failed', a.kind, { cause, kind: a.kind, detail });
        },
      },
      clock,
      log,
    );
  }

  async send(a: Alert): Promise<void> {
    this.sender.send(webhookBody(a), a);
  }

  stop(): Promise<void> {
    return this.sender.stop();
  }
}
