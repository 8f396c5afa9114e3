import type { Command } from 'commander';
import { resolveConfigPath, withStore } from '../context.js';

export function registerQueueCommands(program: Command): void {
  const queue = program.command('queue').description('the mail queue');
  queue
    .command('list')
    .description('messages waiting for delivery, one line per recipient')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const path = resolveConfigPath((cmd.optsWithGlobals() as { config?: string }).config);
      const rows = await withStore(path, async (s) => {
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
}
