/**
 * The queue: counts and waiting recipients, one message in full (envelope,
 * headers, each recipient's state, last error and timing, as `postern queue
 * show`), and retry, hold, release and delete with the command line's code
 * (`queue/admin.ts`). mailadmin acts, the auditor looks; every view of a
 * message and every action is audited with the logged-in account.
 */
import type { Hono } from 'hono';
import { applyQueueAction, delays, QUEUE_ACTIONS, QUEUE_ID_RE, queueActionData, queueMessageDetail, type QueueAction } from '../../queue/admin.js';
import { when } from '../report/format.js';
import { audit, htmlError, requireRole, type ConsoleDeps, type ConsoleEnv } from './context.js';
import { escapeHtml as e, form, page } from './html.js';
import { navFor } from './nav.js';

const VIEWERS = ['mailadmin', 'auditor'] as const;
const LABEL: Record<QueueAction, string> = { retry: 'Retry now', hold: 'Hold', release: 'Release', delete: 'Delete' };
const at = (ms: number | null): string => (ms === null ? '-' : when(ms));
const queueLink = (id: string): string => `/console/queue/${encodeURIComponent(id)}`;

export function mountQueuePages(app: Hono<ConsoleEnv>, d: ConsoleDeps): void {
  const queue = d.store.meta.queue;

  app.get('/console/queue', async (c) => {
    const s = await requireRole(c, d, VIEWERS, 'The queue');
    if (s instanceof Response) return s;
    const [stats, pending] = await Promise.all([queue.stats(), queue.listPending(500)]);
    const now = d.clock.now();
    const states = stats.states.map((x) => `<tr><td>${e(x.state)}</td><td>${x.messages}</td><td>${x.recipients}</td></tr>`).join('');
    const rows = pending
      .map(
        (r) =>
          `<tr><td><a href="${e(queueLink(r.queueId))}">${e(r.queueId)}</a></td><td>${e(r.address)}</td><td>${e(r.transport)}</td><td>${e(r.state)}</td><td>${r.attempts}</td><td class="when">${e(r.nextAttemptAt > now ? when(r.nextAttemptAt) : 'due')}</td><td>${e(r.lastError ?? '')}</td></tr>`,
      )
      .join('');
    const body = [
      `<p>${stats.messages} message(s), ${stats.recipients} recipient(s) waiting; oldest received ${e(stats.oldestReceivedAt === null ? '—' : when(stats.oldestReceivedAt))}.</p>`,
      `<table><tr><th>State</th><th>Messages</th><th>Recipients</th></tr>${states}</table>`,
      `<h2>Waiting recipients</h2><table id="queue"><tr><th>Queue id</th><th>Recipient</th><th>Transport</th><th>State</th><th>Attempts</th><th>Next attempt</th><th>Last error</th></tr>${rows}</table>`,
    ].join('');
    return c.html(page('Queue', s, body, navFor(s)));
  });

  app.get('/console/queue/:id', async (c) => {
    const s = await requireRole(c, d, VIEWERS, 'The queue');
    if (s instanceof Response) return s;
    const id = c.req.param('id');
    if (!QUEUE_ID_RE.test(id)) return htmlError(c, 400, 'Bad request', 'not a queue id');
    const detail = await queueMessageDetail(d.store, id);
    if (!detail) return htmlError(c, 404, 'Not found', `${id}: no such message in the queue`);
    const { message: m, header, recipients } = detail;
    await audit(d, s.address!, 'queue.show', id, { sender: m.sender });
    const facts: [string, string][] = [
      ['Queue id', m.id],
      ['Received', `${at(m.receivedAt)} from ${m.clientAddress} (${m.source}${m.authUser ? `, user ${m.authUser}` : ''})`],
      ['Sender', `<${m.sender}>`],
      ['Size', `${m.size} bytes`],
      ...(m.meta.requireTls === true ? [['REQUIRETLS', 'yes (verified TLS only)'] as [string, string]] : []),
      ...Object.entries(header).filter((kv): kv is [string, string] => kv[1] !== null),
    ];
    const rcpts = recipients
      .map(
        (r) =>
          `<tr><td>${e(r.address)}</td><td>${e(r.transport)}</td><td>${e(r.state)}</td><td>${r.attempts}</td><td class="when">${e(r.state === 'deferred' || r.state === 'queued' ? at(r.nextAttemptAt) : '-')}</td><td>${e(r.lastError ?? '')}</td><td>${e(r.timing ? `relay=${r.timing.relay ?? '-'} tls=${r.timing.tls ?? '-'} delays=${delays(r, m.receivedAt)}` : '-')}</td><td class="when">${e(at(r.deliveredAt))}</td></tr>`,
      )
      .join('');
    const verdicts = m.verdicts.map((v) => `<tr><td>${e(v.stage)}</td><td>${e(v.action)}</td><td>${e(v.reasons.map((r) => [r.rule, r.detail, r.engine, r.signature, r.part].filter(Boolean).join(' ')).join('; '))}</td></tr>`).join('');
    const actions = s.roles.includes('mailadmin')
      ? `<p>${QUEUE_ACTIONS.map((a) => form(s, `${queueLink(id)}/${a}`, `<button type="submit" id="queue-${a}">${e(LABEL[a])}</button>`, 'class="inline"')).join(' ')}</p>`
      : '<p class="muted">Your role may look, not act.</p>';
    const body = [
      `<table id="message">${facts.map(([k, v]) => `<tr><th>${e(k)}</th><td>${e(v)}</td></tr>`).join('')}</table>`,
      verdicts ? `<h2>Verdicts</h2><table><tr><th>Stage</th><th>Action</th><th>Reasons</th></tr>${verdicts}</table>` : '',
      `<h2>Recipients</h2><table id="recipients"><tr><th>Recipient</th><th>Transport</th><th>State</th><th>Attempts</th><th>Next attempt</th><th>Last error</th><th>Last attempt</th><th>Delivered</th></tr>${rcpts}</table>`,
      actions,
    ].join('');
    return c.html(page(`Queued message ${id}`, s, body, navFor(s)));
  });

  app.post('/console/queue/:id/:action', async (c) => {
    const s = await requireRole(c, d, ['mailadmin'], 'Acting on the queue');
    if (s instanceof Response) return s;
    const { id, action } = c.req.param();
    if (!QUEUE_ID_RE.test(id)) return htmlError(c, 400, 'Bad request', 'not a queue id');
    if (!(QUEUE_ACTIONS as readonly string[]).includes(action)) return htmlError(c, 404, 'Not found', `no queue action ${action}`);
    const r = await applyQueueAction(queue, action as QueueAction, id, d.clock.now());
    if (r === null) return htmlError(c, 404, 'Not found', `${id}: no such message in the queue`);
    await audit(d, s.address!, `queue.${action}`, id, queueActionData(r));
    return c.redirect(action === 'delete' ? '/console/queue' : queueLink(id), 303);
  });
}
