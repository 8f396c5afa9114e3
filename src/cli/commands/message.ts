import type { Command } from 'commander';
import { getFields, headerValue, parseHeaderSection } from '../../codec/mime/header.js';
import { resolveConfigPath, UsageError, withStore } from '../context.js';
import { audited } from '../audit.js';
import { printVerdicts } from './verdicts.js';

const cfg = (cmd: Command): string => resolveConfigPath((cmd.optsWithGlobals() as { config?: string }).config);

export function registerMessageCommands(program: Command): void {
  const m = program.command('message').description('delivered mail in the mailboxes');
  m.command('show <address> <folder> <uid>')
    .description("one delivered message: headers, Authentication-Results and the policy verdicts it was delivered with")
    .option('--json', 'machine-readable output')
    .action(async (address: string, folderName: string, uidText: string, o: { json?: boolean }, cmd: Command) => {
      const uid = Number(uidText);
      if (!Number.isInteger(uid) || uid < 1) throw new UsageError(`uid must be a positive integer, got ${JSON.stringify(uidText)}`);
      const found = await withStore(cfg(cmd), async (s) => {
        const account = await s.meta.directory.getAccount(address.toLowerCase());
        if (!account) throw new UsageError(`${address}: no such account`);
        const folder = await s.meta.mailboxes.getFolder(account.id, folderName);
        if (!folder) throw new UsageError(`${address}: no folder ${JSON.stringify(folderName)}`);
        const [msg] = await s.meta.mailboxes.getMessages(folder.id, [uid]);
        if (!msg) throw new UsageError(`${address} ${folderName}: no message with UID ${uid}`);
        // An administrator reading someone's mail is recorded like a change.
        await audited(s, 'message.show', account.address, { folder: folder.name, uid: msg.uid });
        const head = await s.blobs.get(msg.blobId).then((b) => parseHeaderSection(b.subarray(0, 64 * 1024)).fields, () => []);
        const header = Object.fromEntries(['From', 'To', 'Subject', 'Message-ID', 'Date'].map((k) => [k, headerValue(head, k)]));
        const authResults = getFields(head, 'Authentication-Results').map((f) => f.value.replace(/\s+/g, ' '));
        const kept = await s.meta.verdicts.get(msg.blobId);
        return { account: account.address, folder: folder.name, uid: msg.uid, size: msg.size, flags: msg.flags, internalDate: msg.internalDate, header, authResults, queueId: kept?.queueId ?? null, verdicts: kept?.verdicts ?? [] };
      });
      if (o.json) return void console.log(JSON.stringify(found, null, 2));
      console.log(`mailbox:    ${found.account} ${found.folder} UID ${found.uid}`);
      console.log(`received:   ${new Date(found.internalDate).toISOString()}${found.queueId ? ` (queue id ${found.queueId})` : ''}`);
      console.log(`size:       ${found.size}`);
      console.log(`flags:      ${found.flags.join(' ') || '-'}`);
      for (const [k, v] of Object.entries(found.header)) if (v !== null) console.log(`${`${k}:`.padEnd(12)}${v}`);
      for (const a of found.authResults) console.log(`auth:       ${a}`);
      printVerdicts(found.verdicts);
    });
}
