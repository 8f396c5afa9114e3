import type { Command } from 'commander';
import { generateKeyPairSync } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { checkpoint, verifyAuditLog } from '../../integrity/audit-log.js';
import { resolveConfigPath, UsageError, withStore } from '../context.js';
import { parseSince } from '../duration.js';
import type { AuditQuery } from '../../store/types.js';

const cfg = (cmd: Command): string => resolveConfigPath((cmd.optsWithGlobals() as { config?: string }).config);
const MAX_KEY_FILE = 64 * 1024;

async function readKey(file: string, what: string): Promise<string> {
  let st;
  try {
    st = await fsp.stat(file);
  } catch (e) {
    throw new UsageError(`${what} ${file}: ${(e as Error).message}`);
  }
  if (!st.isFile() || st.size > MAX_KEY_FILE) throw new UsageError(`${what} ${file} is not a key file`);
  return fsp.readFile(file, 'utf8');
}

export function registerAuditLogCommands(program: Command): void {
  const a = program
    .command('audit-log')
    .description('the hash-chained log of administrative actions: verify, show, sign checkpoints')
    .addHelpText(
      'after',
      `
Every record carries the hash of the one before it, so verify names the first
record that was edited, deleted or moved. Checkpoints are signed with an Ed25519
key that an auditor keeps outside the data folder: the mailadmin cannot forge
one without it. An edit made before the last checkpoint is detected by the
checkpoint (its hash and signature); an edit after it is detected by the chain
only, and someone with write access to the database could rebuild that tail:
periodic checkpoints bound how much of the log that is.`,
    );

  a.command('verify')
    .description('check the chain and every checkpoint; exit 1 naming the first bad record')
    .option('--public-key <file>', "the auditor's Ed25519 public key (PEM): also checks checkpoint signatures")
    .option('--json', 'machine-readable output')
    .action(async (o: { publicKey?: string; json?: boolean }, cmd: Command) => {
      const pub = o.publicKey ? await readKey(o.publicKey, 'public key') : undefined;
      const r = await withStore(cfg(cmd), (s) => verifyAuditLog(s, pub));
      if (o.json) console.log(JSON.stringify(r, null, 2));
      else if (r.ok) {
        const sig = pub ? `, ${r.signedCheckpoints} signature(s) verified` : ', signatures not checked (no --public-key)';
        console.log(`audit log intact: ${r.records} record(s), ${r.checkpoints} checkpoint(s)${r.checkpoints ? sig : ''}`);
      } else {
        console.error(`record ${r.firstBad?.seq}: ${r.firstBad?.reason}`);
        for (const b of r.badCheckpoints) if (b !== r.firstBad) console.error(`record ${b.seq}: ${b.reason}`);
      }
      if (!r.ok) process.exitCode = 1;
    });

  a.command('show')
    .description('records, oldest first')
    .option('--actor <actor>', 'only this actor (an address or cli:<user>)')
    .option('--action <action>', 'only this action (e.g. user.add)')
    .option('--since <when>', 'only records since 7d, 12h, ... or a date YYYY-MM-DD')
    .option('--limit <n>', 'at most n records', '1000')
    .option('--json', 'machine-readable output')
    .action(async (o: { actor?: string; action?: string; since?: string; limit: string; json?: boolean }, cmd: Command) => {
      const limit = Number(o.limit);
      if (!Number.isSafeInteger(limit) || limit < 1) throw new UsageError(`--limit takes a positive number, not ${JSON.stringify(o.limit)}`);
      const q: AuditQuery = {
        limit,
        ...(o.actor ? { actor: o.actor } : {}),
        ...(o.action ? { action: o.action } : {}),
        ...(o.since ? { since: parseSince(o.since, Date.now()) } : {}),
      };
      const rows = await withStore(cfg(cmd), (s) => s.meta.audit.list(q));
      if (o.json) return void console.log(JSON.stringify(rows, null, 2));
      for (const r of rows) console.log(`${r.seq}\t${new Date(r.at).toISOString()}\t${r.actor}\t${r.action}\t${r.subject}\t${JSON.stringify(r.data)}`);
      console.log(`${rows.length} record(s)`);
    });

  a.command('checkpoint')
    .description("sign the log's last record with the auditor's key (kept outside the data folder)")
    .requiredOption('--key <file>', "the auditor's Ed25519 private key (PEM)")
    .action(async (o: { key: string }, cmd: Command) => {
      const pem = await readKey(o.key, 'private key');
      const r = await withStore(cfg(cmd), (s) => checkpoint(s, pem, Date.now()));
      if (!r.ok) {
        console.error(`postern: ${r.error}`);
        process.exitCode = 1;
        return;
      }
      console.log(`checkpoint at record ${r.checkpoint.seq} ${r.checkpoint.hash} signed by key ${r.checkpoint.keyId}`);
    });

  a.command('keygen')
    .description('write a new auditor key pair: audit-key.pem (private, mode 0600) and audit-key.pub.pem')
    .requiredOption('--out <dir>', 'a folder outside the data folder, readable only by the auditor')
    .action(async (o: { out: string }) => {
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      await fsp.mkdir(o.out, { recursive: true, mode: 0o700 });
      const priv = path.join(o.out, 'audit-key.pem');
      const pub = path.join(o.out, 'audit-key.pub.pem');
      // 'wx': never overwrite an existing key (a lost key makes old checkpoints unverifiable).
      try {
        await fsp.writeFile(priv, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600, flag: 'wx' });
      } catch (e) {
        throw new UsageError(`${priv}: ${(e as Error).message}`);
      }
      await fsp.chmod(priv, 0o600);
      await fsp.writeFile(pub, publicKey.export({ type: 'spki', format: 'pem' }) as string, { mode: 0o644 });
      console.log(`private key: ${priv} (keep it away from the server)\npublic key: ${pub}`);
    });
}
