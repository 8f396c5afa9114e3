import type { Command } from 'commander';
import { headerValue, parseHeaderSection } from '../../codec/mime/header.js';
import { verifyPassword, dummyVerify } from '../../crypto/password.js';
import type { Config } from '../../config/index.js';
import type { Store } from '../../store/types.js';
import { resolveConfigPath, UsageError, withStore } from '../context.js';
import { audited } from '../audit.js';
import { readPassword } from '../password-input.js';
import { printVerdicts } from './verdicts.js';
import { heldForEncryption } from '../../policy/dlp/index.js';

const cfg = (cmd: Command): string => resolveConfigPath((cmd.optsWithGlobals() as { config?: string }).config);
const iso = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString());

/**
 * Who acts on the quarantine: an account of the directory with one of the
 * roles in [policy] release_roles, proven by its password (read from stdin,
 * never argv). The address is recorded with the action.
 */
async function authorise(s: Store, config: Config, address: string, password: string): Promise<string> {
  const account = await s.meta.directory.getAccount(address.toLowerCase());
  const ok = account && !account.disabled ? await verifyPassword(password, account.passwordHash) : await dummyVerify(password);
  if (!account || !ok) throw new UsageError(`${address}: authentication failed`);
  const allowed = config.policy.release_roles;
  if (!account.roles.some((r) => allowed.includes(r))) {
    throw new UsageError(`${account.address} may not act on the quarantine: it needs one of the roles ${allowed.join(', ')} (it has ${account.roles.join(', ')})`);
  }
  return account.address;
}

function act(parent: Command, verb: 'release' | 'delete', description: string) {
  const command = parent
    .command(`${verb} <queue-id...>`)
    .description(description)
    .requiredOption('--as <address>', 'the account that acts (an auditor by default); its password is read from stdin');
  if (verb === 'release') command.option('--clear', 'also release mail held because a DLP rule said encrypt and a recipient had no certificate: it goes out unencrypted');
  command
    .action(async (ids: string[], o: { as: string; clear?: boolean }, cmd: Command) => {
      const password = await readPassword(`password for ${o.as}: `);
      const results = await withStore(cfg(cmd), async (s, config) => {
        const actor = await authorise(s, config, o.as, password);
        const out: [string, boolean | 'encrypt'][] = [];
        for (const id of ids) {
          const now = Date.now();
          const entry = verb === 'release' ? await s.meta.quarantine.get(id) : null;
          // A rule said encrypt and no certificate was known: releasing sends it in clear, so only on explicit request.
          const clear = entry?.state === 'held' && heldForEncryption(entry);
          if (clear && !o.clear) {
            await audited(s, 'quarantine.release', id, { result: 'refused', reason: 'held for encryption; --clear not given' }, actor);
            out.push([id, 'encrypt']);
            continue;
          }
          const done = verb === 'release' ? await s.meta.quarantine.release(id, actor, now) : await s.meta.quarantine.delete(id, actor, now);
          if (done) await s.meta.events.record(`quarantine.${verb === 'release' ? 'released' : 'deleted'}`, id, { actor }, now);
          if (done) await audited(s, `quarantine.${verb}`, id, clear ? { clear: true } : {}, actor);
          out.push([id, done]);
        }
        return out;
      });
      let missing = 0;
      let refused = 0;
      for (const [id, done] of results) {
        if (done === 'encrypt') {
          refused++;
          console.error(`${id}: held because a DLP rule said encrypt and a recipient had no certificate; import the certificate (postern cert import) and have the sender send it again, or release it with --clear to send it unencrypted`);
        } else if (done) console.log(`${id}: ${verb === 'release' ? 'released' : 'deleted'} by ${o.as.toLowerCase()}`);
        else {
          missing++;
          console.error(`${id}: not held in the quarantine`);
        }
      }
      if (refused > 0) throw new UsageError(`${refused} of ${ids.length} message(s) not released: they would leave unencrypted (--clear)`);
      if (missing > 0) throw new UsageError(`${missing} of ${ids.length} message(s) not held in the quarantine`);
    });
}

export function registerQuarantineCommands(program: Command): void {
  const q = program.command('quarantine').description('mail held by a policy stage (spoofing, malware, DLP)');
  q.command('list')
    .description('held messages, newest first')
    .option('--all', 'also released and deleted ones')
    .option('--json', 'machine-readable output')
    .action(async (o: { all?: boolean; json?: boolean }, cmd: Command) => {
      const rows = await withStore(cfg(cmd), (s) => s.meta.quarantine.list(o.all ? {} : { state: 'held' }));
      if (o.json) return void console.log(JSON.stringify(rows, null, 2));
      if (rows.length === 0) return void console.log(o.all ? 'the quarantine is empty' : 'no message is held');
      for (const r of rows) {
        const who = r.actor ? `\t${r.state} by ${r.actor} ${iso(r.actedAt)}` : `\t${r.state}`;
        console.log(`${r.queueId}\t${iso(r.at)}\t${r.stage}\t${r.reason}\t<${r.sender}> -> ${r.recipients.map((x) => `<${x}>`).join(' ')}${who}`);
      }
      console.log(`${rows.length} message(s)`);
    });

  q.command('show <queue-id>')
    .description('one held message: envelope, headers and every stage verdict')
    .option('--json', 'machine-readable output')
    .action(async (id: string, o: { json?: boolean }, cmd: Command) => {
      const found = await withStore(cfg(cmd), async (s) => {
        const entry = await s.meta.quarantine.get(id);
        if (!entry) return null;
        await audited(s, 'quarantine.show', id, { recipients: entry.recipients });
        const m = await s.meta.queue.getMessage(id);
        const head = m ? await s.blobs.get(m.blobId).then((b) => parseHeaderSection(b.subarray(0, 64 * 1024)).fields, () => []) : [];
        const header = Object.fromEntries(['From', 'Reply-To', 'To', 'Subject', 'Message-ID', 'Date'].map((k) => [k, headerValue(head, k)]));
        return { entry, header, verdicts: m?.verdicts ?? [] };
      });
      if (!found) throw new UsageError(`${id}: not in the quarantine`);
      if (o.json) return void console.log(JSON.stringify(found, null, 2));
      const { entry: e, header, verdicts } = found;
      console.log(`queue id:   ${e.queueId}`);
      console.log(`held:       ${iso(e.at)} by ${e.stage}: ${e.reason}`);
      console.log(`state:      ${e.state}${e.actor ? ` by ${e.actor} at ${iso(e.actedAt)}` : ''}`);
      console.log(`sender:     <${e.sender}>`);
      console.log(`recipients: ${e.recipients.map((x) => `<${x}>`).join(' ')}`);
      console.log(`size:       ${e.size}`);
      for (const [k, v] of Object.entries(header)) if (v !== null) console.log(`${`${k}:`.padEnd(12)}${v}`);
      printVerdicts(verdicts);
    });

  act(q, 'release', 'deliver held messages (recorded with the account that released them)');
  act(q, 'delete', 'remove held messages without delivering them (the record stays)');
}
