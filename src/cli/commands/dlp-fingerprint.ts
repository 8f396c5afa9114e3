/**
 * `postern dlp fingerprint add|list|remove`: documents registered for the
 * fingerprint detector, kept beside the rules file as hashes only.
 */
import { basename } from 'node:path';
import type { Command } from 'commander';
import { checkName, fingerprintDirOf, fingerprintDocument, listFingerprints, readDocument, removeFingerprint, writeFingerprint } from '../../policy/dlp/fingerprint-file.js';
import { asUsage, configIfAny, limitsOf, rulesFrom, rulesPathOf } from './dlp-settings.js';

export function registerFingerprintCommands(dlp: Command): void {
  const fp = dlp.command('fingerprint').description('documents registered for the fingerprint detector (hashes only, never the text)');
  fp.command('add')
    .description('register a document (txt, html, docx, xlsx, pptx, pdf, zip, eml) under a name')
    .argument('<file>', 'the document')
    .requiredOption('--name <name>', 'its name in the rules file (a-z, 0-9, "-")')
    .option('--replace', 'replace a document registered under the same name')
    .option('--rules <file>', 'a rules file instead of [policy.dlp] rules')
    .action(async (file: string, o: { name: string; replace?: boolean; rules?: string }, cmd: Command) => {
      await asUsage(async () => {
        const name = checkName(o.name);
        const dir = await fingerprintDirOf(rulesPathOf(cmd, o.rules));
        const { limits } = limitsOf(configIfAny(cmd, o.rules !== undefined));
        const doc = await fingerprintDocument(await readDocument(file), basename(file), name, limits);
        const written = await writeFingerprint(dir, doc.fingerprint, { replace: o.replace === true });
        console.log(`registered "${name}": ${doc.fingerprint.words} words, ${doc.fingerprint.hashes.length} hashes → ${written}`);
        for (const f of doc.findings) process.stderr.write(`postern: note: ${f.kind} ${f.part}: ${f.detail}\n`);
        console.log(`use it in the rules file: [detectors.<name>] type = "fingerprint", documents = ["${name}"], threshold = 0.5`);
      });
    });
  fp.command('list')
    .description('the registered documents')
    .option('--rules <file>', 'a rules file instead of [policy.dlp] rules')
    .option('--json', 'machine-readable output')
    .action(async (o: { rules?: string; json?: boolean }, cmd: Command) => {
      await asUsage(async () => {
        const dir = await fingerprintDirOf(rulesPathOf(cmd, o.rules));
        const all = await listFingerprints(dir);
        if (o.json) console.log(JSON.stringify({ dir, documents: all }, null, 2));
        else {
          console.log(`${dir}: ${all.length} document(s)`);
          for (const d of all) console.log(d.problem ? `${d.name}\tunusable: ${d.problem}` : `${d.name}\t${d.words} words\t${d.hashes} hashes\t${d.created ?? '-'}`);
        }
        if (all.some((d) => d.problem)) process.exitCode = 1;
      });
    });
  fp.command('remove')
    .description('unregister a document (a detector naming it makes the rules file invalid until it is edited)')
    .argument('<name>')
    .option('--rules <file>', 'a rules file instead of [policy.dlp] rules')
    .action(async (name: string, o: { rules?: string }, cmd: Command) => {
      await asUsage(async () => {
        const rulesPath = rulesPathOf(cmd, o.rules);
        const removed = await removeFingerprint(await fingerprintDirOf(rulesPath), name);
        console.log(`removed ${removed}`);
        // The server keeps its loaded rules while a new version is bad: say so now rather than in its log.
        await rulesFrom(rulesPath).catch((e: Error) => process.stderr.write(`postern: warning: the rules file no longer loads:\n${e.message}\n`));
      });
    });
}
