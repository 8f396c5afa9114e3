import type { Command } from 'commander';
import { applyQueueAction, delays, queueActionData, queueMessageDetail, type QueueAction } from '../../queue/admin.js';
import { resolveConfigPath, UsageError, withStore } from '../context.js';
import { audited } from '../audit.js';
import { printVerdicts } from './verdicts.js';

const cfg = (cmd: Command): string => resolveConfigPath((cmd.optsWithGlobals() as { config?: string }).config);
const iso = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString());

/** Applies a change to each queue id given; unknown ids are reported, not fatal. */
function perMessage(program: Command, name: QueueAction, description: string, done: string) {
  program
    .command(`${name} <queue-id...>`)
    .description(description)
    .action(async (ids: string[], _o, cmd: Command) => {
      const results = await withStore(cfg(cmd), async (s) => {
        const out: [string, number | boolean | null][] = [];
        for (const id of ids) {
          const r = await applyQueueAction(s.meta.queue, name, id, Date.now());
          if (r !== null) await audited(s, `queue.${name}`, id, queueActionData(r));
          out.push([id, r]);
        }
        return out;
      });
      let missing = 0;
      for (const [id, r] of results) {
        if (r === null) {
          missing++;
          console.error(`${id}: no such message in the queue`);
        } else console.log(`${id}: ${done}${typeof r === 'number' ? ` (${r} recipient${r === 1 ? '' : 's'})` : ''}`);
      }
      if (missing > 0) throw new UsageError(`${missing} of ${ids.length} queue id(s) not found`);
    });
}

export function registerQueueCommands(program: Command): void {
  const queue = program.command('queue').description('the mail queue');
  queue
    .command('list')
    .description('messages waiting for delivery, one line per recipient')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const rows = await withStore(cfg(cmd), async (s) => {
        const out = [];
        for (const r of await s.meta.queue.listPending(10_000)) {
          const m = await s.meta.queue.getMessage(r.queueId);
          out.push({ ...r, sender: m?.sender ?? '', size: m?.size ?? 0, receivedAt: m?.receivedAt ?? 0 });
        }
        return out;
      });
      if (o.json) {
        console.log(JSON.stringify(rows, null, 2));
        return;
      }
      if (rows.length === 0) {
        console.log('queue is empty');
        return;
      }
      for (const r of rows) {
        const when = new Date(r.receivedAt).toISOString();
        console.log(`${r.queueId}\t${when}\t${r.size}\t<${r.sender}> -> <${r.address}>\t${r.transport}\t${r.state}\t${r.lastError ?? ''}`);
      }
      console.log(`${rows.length} recipient(s) pending`);
    });

  queue
    .command('show <queue-id>')
    .description('one message: envelope, headers, and each recipient with its state, last error and timing')
    .option('--json', 'machine-readable output')
    .action(async (id: string, o: { json?: boolean }, cmd: Command) => {
      const found = await withStore(cfg(cmd), async (s) => {
        const detail = await queueMessageDetail(s, id);
        if (detail) await audited(s, 'queue.show', id, { sender: detail.message.sender });
        return detail;
      });
      if (!found) throw new UsageError(`${id}: no such message in the queue`);
      if (o.json) {
        console.log(JSON.stringify(found, null, 2));
        return;
      }
      const { message: m, header, recipients } = found;
      console.log(`queue id:   ${m.id}`);
      console.log(`received:   ${iso(m.receivedAt)} from ${m.clientAddress} (${m.source}${m.authUser ? `, user ${m.authUser}` : ''})`);
      console.log(`sender:     <${m.sender}>`);
      console.log(`size:       ${m.size}`);
      if (m.meta.requireTls === true) console.log('REQUIRETLS: yes (verified TLS only)');
      for (const [k, v] of Object.entries(header)) if (v !== null) console.log(`${`${k}:`.padEnd(12)}${v}`);
      printVerdicts(m.verdicts);
      for (const r of recipients) {
        console.log(`\n  <${r.address}> ${r.transport} ${r.state}, ${r.attempts} attempt(s)`);
        if (r.state === 'deferred' || r.state === 'queued') console.log(`    next attempt: ${iso(r.nextAttemptAt)}`);
        if (r.lastError) console.log(`    last error:   ${r.lastError}`);
        if (r.timing) console.log(`    last attempt: relay=${r.timing.relay ?? '-'} tls=${r.timing.tls ?? '-'} delays=${delays(r, m.receivedAt)}`);
        if (r.deliveredAt) console.log(`    delivered:    ${iso(r.deliveredAt)}`);
      }
    });

  perMessage(queue, 'retry', 'try the deferred recipients of these messages now', 'due now');
  perMessage(queue, 'hold', 'stop delivery attempts for these messages until released', 'held');
  perMessage(queue, 'release', 'resume delivery of held messages', 'released');
  perMessage(queue, 'delete', 'remove messages from the queue without delivering or bouncing them', 'deleted');
}
