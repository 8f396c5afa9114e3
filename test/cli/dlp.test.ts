/**
 * `postern dlp` as an administrator runs it (the built CLI; npm test builds
 * dist first) against an installation made by `postern init`: the report
 * from recorded events, a scan of stored mail (a card number inside a DOCX
 * attachment, an S/MIME-encrypted message, a corrupt blob), `dlp test` with
 * masked output, and a registered document found again re-wrapped in a
 * message. Real files: python3-docx for the DOCX, openssl for S/MIME.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { cli, makeInstallation, type Installation } from '../process/postern-process.js';

const PY = '/usr/bin/python3';
const DAY = 86_400_000;
const CARD = '4111111111111111';
const CARD_SPACED = '4111 1111 1111 1111';
const PW = 'correct horse battery staple';

/** A paragraph of the registered document: words a message repeats re-wrapped. */
const PLAN = Array.from(
  { length: 12 },
  (_, i) =>
    `Section ${i + 1}: the acquisition of Northwind Traders proceeds in phase ${i + 1}, with the valuation committee reviewing synergies, ` +
    `retention packages for engineering staff, the disposal of the logistics unit ${i + 1} and a closing date agreed with counsel before the announcement.`,
);

const RULES = `version = 1
unscannable_rule = "unscannable"
fingerprint_dir = "fp"

[detectors.cards]
type = "credit_card"

[[rules]]
name = "payment-cards"
detectors = ["cards"]
outbound = ["require_tls", "tag"]
internal = ["log"]
inbound = ["log"]
notify = ["sender"]

[[rules]]
name = "unscannable"
detectors = []
outbound = ["hold"]
`;

const RULES_FP = `${RULES}
[detectors.merger]
type = "fingerprint"
documents = ["merger-plan"]
threshold = 0.5

[[rules]]
name = "merger"
detectors = ["merger"]
outbound = ["hold"]
`;

let inst: Installation;
const file = (name: string, data: string | Uint8Array): string => {
  const f = path.join(inst.dir, name);
  writeFileSync(f, data);
  return f;
};

function docx(paragraphs: readonly string[], out: string): Buffer {
  const r = spawnSync(PY, ['-c', 'import sys, json\nfrom docx import Document\nd = Document()\nfor p in json.loads(sys.argv[2]): d.add_paragraph(p)\nd.save(sys.argv[1])', out, JSON.stringify(paragraphs)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python3-docx: ${r.stderr}`);
  return readFileSync(out);
}

const b64 = (b: Buffer) => b.toString('base64').replace(/.{1,76}/g, '$&\r\n');

function withAttachment(subject: string, name: string, type: string, bytes: Buffer): string {
  return (
    `From: carol@example.test\r\nTo: alice@example.test\r\nSubject: ${subject}\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n` +
    `--b1\r\nContent-Type: text/plain\r\n\r\nSee the attached file.\r\n` +
    `--b1\r\nContent-Type: ${type}\r\nContent-Disposition: attachment; filename="${name}"\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64(bytes)}--b1--\r\n`
  );
}

/** A message encrypted as a whole to the installation's own certificate (openssl cms). */
function smime(): string {
  const inner = file('inner.txt', `Content-Type: text/plain\r\n\r\nCard ${CARD_SPACED} inside the envelope.\r\n`);
  const r = spawnSync('openssl', ['cms', '-encrypt', '-aes256', '-in', inner, path.join(inst.dir, 'tls', 'cert.pem')], { encoding: 'latin1' });
  if (r.status !== 0) throw new Error(`openssl cms: ${r.stderr}`);
  return `From: dave@outside.test\r\nTo: bob@example.test\r\nSubject: sealed\r\n${r.stdout.replace(/\r?\n/g, '\r\n')}`;
}

/** Stores messages straight into mailboxes, as delivery would. */
async function deliver(mail: { to: string; folder?: string; raw: string | Buffer; at?: number }[]): Promise<string[]> {
  const s = await openStore({ backend: 'sqlite', dataDir: path.join(inst.dir, 'data') });
  const ids: string[] = [];
  try {
    for (const m of mail) {
      const a = (await s.meta.directory.getAccount(m.to))!;
      const f = (await s.meta.mailboxes.getFolder(a.id, m.folder ?? 'INBOX'))!;
      const ref = await s.blobs.put(typeof m.raw === 'string' ? Buffer.from(m.raw, 'latin1') : m.raw);
      await s.meta.mailboxes.append(f.id, { blobId: ref.id, size: ref.size, internalDate: m.at ?? Date.now() });
      ids.push(ref.id);
    }
  } finally {
    await s.close();
  }
  return ids;
}

beforeAll(async () => {
  inst = await makeInstallation('example.test', '[policy.dlp]\nrules = "rules.toml"\n');
  file('rules.toml', RULES);
  file('rules-fp.toml', RULES_FP);
  for (const who of ['alice', 'bob', 'carol', 'erin']) expect(cli(inst, ['user', 'add', `${who}@example.test`], `${PW}\n`).status).toBe(0);
  expect(cli(inst, ['group', 'add', 'legal']).status).toBe(0);
  expect(cli(inst, ['group', 'members', 'legal', '--add', 'alice@example.test']).status).toBe(0);
  const report = docx(['Quarterly figures attached.', `Please charge the card ${CARD_SPACED} for the renewal.`], path.join(inst.dir, 'renewal.docx'));
  await deliver([
    { to: 'alice@example.test', raw: withAttachment('renewal', 'renewal.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', report) },
    { to: 'alice@example.test', folder: 'Archive', raw: 'From: x@example.test\r\nSubject: lunch\r\n\r\nLunch at noon?\r\n' },
    { to: 'alice@example.test', raw: 'From: x@example.test\r\nSubject: old\r\n\r\nOld card 5555 5555 5555 4444.\r\n', at: Date.now() - 90 * DAY },
    { to: 'bob@example.test', raw: smime() },
    { to: 'carol@example.test', raw: 'From: x@example.test\r\nSubject: hi\r\n\r\nNothing to see.\r\n' },
  ]);
}, 120_000);
afterAll(() => inst?.cleanup());

describe('postern dlp report', () => {
  beforeAll(async () => {
    const s = await openStore({ backend: 'sqlite', dataDir: path.join(inst.dir, 'data') });
    try {
      const e = s.meta.events;
      const now = Date.now();
      for (const domain of ['rival.example', 'rival.example', 'partner.example'])
        await e.record('dlp.flow', 'q1', { rule: 'payment-cards', group: 'legal', direction: 'outbound', destination: 'external', action: 'require_tls', domain }, now - DAY);
      await e.record('dlp.flow', 'q0', { rule: 'payment-cards', group: 'legal', direction: 'outbound', destination: 'external', action: 'require_tls', domain: 'ancient.example' }, now - 60 * DAY);
      await e.record('dlp.match', 'q1', { rule: 'payment-cards', group: 'legal', direction: 'outbound', destination: 'external', action: 'require_tls', sender: 'alice@example.test', count: 1 }, now - DAY);
      for (const result of ['confidential', 'clean', 'clean']) await e.record('dlp.message', 'q', { direction: 'outbound', result, action: 'none' }, now - DAY);
    } finally {
      await s.close();
    }
  });

  it('prints who sends confidential data to which outside domain', () => {
    const r = cli(inst, ['dlp', 'report', '--since', '30d']);
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toMatch(/^ {2}legal +rival\.example +payment-cards +2$/m);
    expect(r.stdout).toMatch(/^ {2}legal +partner\.example +payment-cards +1$/m);
    expect(r.stdout).toMatch(/messages classified: 3 \(confidential 1, clean 2, unscannable 0\)/);
    expect(r.stdout).not.toContain('ancient.example');
  });

  it('writes the same as JSON', () => {
    const r = cli(inst, ['dlp', 'report', '--since', '90d', '--json']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as { schema: string; flows: unknown[]; totals: Record<string, number> };
    expect(j.schema).toBe('postern.dlp-report/1');
    expect(j.flows).toContainEqual({ group: 'legal', domain: 'ancient.example', rule: 'payment-cards', count: 1 });
    expect(j.totals).toMatchObject({ messages: 3, confidential: 1, matches: 1, flows: 4 });
  });

  it('refuses a bad --since', () => {
    expect(cli(inst, ['dlp', 'report', '--since', 'lately'])).toMatchObject({ status: 2, stderr: expect.stringMatching(/--since takes/) });
  });
});

describe('postern dlp scan', () => {
  it('finds the card number in the DOCX attachment, masked, and lists the encrypted message', () => {
    const r = cli(inst, ['dlp', 'scan', '--since', '30d']);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^alice@example\.test\tINBOX\t1\tmatch\tpayment-cards \[cards: 4111 \*{4} \*{4} 1111 \(attachment:[^)]*renewal\.docx\)\]$/m);
    expect(r.stdout).toMatch(/^bob@example\.test\tINBOX\t1\tnot scannable \(encrypted\)\t/m);
    expect(r.stdout).toMatch(/scanned 4 message\(s\) .*: 1 matched \(payment-cards 1\), 1 not scannable \(encrypted\), 0 corrupt, 0 failed/);
    expect(r.stdout + r.stderr).not.toContain(CARD);
    expect(r.stdout + r.stderr).not.toContain(CARD_SPACED);
    expect(r.stdout).not.toContain('5555'); // older than --since
  });

  it('keeps to a group, writes JSON, and is audited', () => {
    const r = cli(inst, ['dlp', 'scan', '--group', 'legal', '--json']);
    expect(r.status, r.stderr).toBe(1);
    const j = JSON.parse(r.stdout) as { schema: string; selection: string; summary: { accounts: number; messages: number; matched: number }; items: { mailbox: string; kind: string }[] };
    expect(j).toMatchObject({ schema: 'postern.dlp-scan/1', selection: 'group:legal', summary: { accounts: 1, messages: 3, matched: 2 } });
    expect(new Set(j.items.map((i) => i.mailbox))).toEqual(new Set(['alice@example.test']));
    const audit = JSON.parse(cli(inst, ['audit-log', 'show', '--json', '--action', 'dlp.scan']).stdout) as { subject: string }[];
    expect(audit.map((a) => a.subject)).toEqual(expect.arrayContaining(['*', 'group:legal']));
  });

  it('exits 0 when nothing matches, 2 on a bad selection', () => {
    expect(cli(inst, ['dlp', 'scan', '--mailbox', 'carol@example.test'])).toMatchObject({ status: 0 });
    expect(cli(inst, ['dlp', 'scan', '--mailbox', 'nobody@example.test'])).toMatchObject({ status: 2, stderr: expect.stringMatching(/nobody@example\.test: no such account/) });
    expect(cli(inst, ['dlp', 'scan', '--mailbox', 'a@example.test', '--group', 'legal'])).toMatchObject({ status: 2, stderr: expect.stringMatching(/not both/) });
    expect(cli(inst, ['dlp', 'scan', '--rules', path.join(inst.dir, 'missing.toml')])).toMatchObject({ status: 2, stderr: expect.stringMatching(/missing\.toml.*file not found/s) });
  });

  it('reports a corrupt blob and exits 2', async () => {
    const [id] = await deliver([{ to: 'erin@example.test', raw: `From: x@example.test\r\nSubject: c\r\n\r\nCard ${CARD_SPACED}\r\n` }]);
    writeFileSync(path.join(inst.dir, 'data', 'blobs', id!.slice(0, 2), id!), Buffer.alloc(100, 0x20));
    const r = cli(inst, ['dlp', 'scan', '--mailbox', 'erin@example.test']);
    expect(r.status).toBe(2);
    expect(r.stdout).toMatch(/^erin@example\.test\tINBOX\t1\tcorrupt\t/m);
  });
});

describe('postern dlp test', () => {
  it('explains the match with masked samples and the actions for the direction', () => {
    const eml = file('card.eml', `From: alice@example.test\r\nTo: x@rival.example\r\nSubject: renewal\r\n\r\nPlease charge ${CARD_SPACED} today.\r\n`);
    const r = cli(inst, ['dlp', 'test', eml]);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/card\.eml: 1 rule\(s\) match; outbound: require_tls, tag/);
    expect(r.stdout).toMatch(/detector cards \(credit_card\): 1 distinct value\(s\) vs min_count 1, confidence \w+ vs min_confidence medium/);
    expect(r.stdout).toContain('4111 **** **** 1111 (body');
    expect(r.stdout).toMatch(/notify sender/);
    expect(r.stdout).not.toContain(CARD);
    expect(r.stdout).not.toContain(CARD_SPACED);
    const internal = JSON.parse(cli(inst, ['dlp', 'test', eml, '--direction', 'internal', '--json']).stdout) as { actions: string[]; matches: { rule: string }[] };
    expect(internal).toMatchObject({ actions: ['log'], matches: [{ rule: 'payment-cards' }] });
  });

  it('says no rule matches (exit 0) and refuses a bad direction', () => {
    const eml = file('plain.eml', 'From: alice@example.test\r\nSubject: hi\r\n\r\nNothing here.\r\n');
    expect(cli(inst, ['dlp', 'test', eml])).toMatchObject({ status: 0, stdout: expect.stringMatching(/no rule matches/) });
    expect(cli(inst, ['dlp', 'test', eml, '--direction', 'sideways'])).toMatchObject({ status: 2, stderr: expect.stringMatching(/--direction takes inbound, outbound or internal/) });
    expect(cli(inst, ['dlp', 'test', path.join(inst.dir, 'none.eml')])).toMatchObject({ status: 2, stderr: expect.stringMatching(/none\.eml: cannot read/) });
  });

  it('shows an encrypted message as a finding', () => {
    const r = cli(inst, ['dlp', 'test', file('sealed.eml', smime())]);
    expect(r.stdout).toMatch(/encrypted as a whole/);
    expect(r.stdout).toMatch(/encrypted-message/);
  });
});

describe('postern dlp fingerprint', () => {
  const fp = ['--rules', ''];
  beforeAll(() => {
    fp[1] = path.join(inst.dir, 'rules-fp.toml');
  });

  it('registers a document as hashes only, lists it and finds it re-wrapped in stored mail', async () => {
    const doc = docx(PLAN, path.join(inst.dir, 'plan.docx'));
    expect(cli(inst, ['dlp', 'fingerprint', 'add', path.join(inst.dir, 'plan.docx'), '--name', 'Bad Name', ...fp])).toMatchObject({ status: 2, stderr: expect.stringMatching(/--name must be/) });
    const add = cli(inst, ['dlp', 'fingerprint', 'add', path.join(inst.dir, 'plan.docx'), '--name', 'merger-plan', ...fp]);
    expect(add.status, add.stderr).toBe(0);
    const stored = readFileSync(path.join(inst.dir, 'fp', 'merger-plan.fp.json'), 'utf8');
    const j = JSON.parse(stored) as Record<string, unknown>;
    expect(Object.keys(j).sort()).toEqual(['created', 'hashes', 'name', 'words']);
    expect(stored).not.toMatch(/Northwind|acquisition/i);
    expect(cli(inst, ['dlp', 'fingerprint', 'add', path.join(inst.dir, 'plan.docx'), '--name', 'merger-plan', ...fp])).toMatchObject({ status: 2, stderr: expect.stringMatching(/already registered/) });
    expect(cli(inst, ['dlp', 'fingerprint', 'list', ...fp]).stdout).toMatch(/^merger-plan\t\d+ words\t\d+ hashes\t/m);
    expect(doc.length).toBeGreaterThan(0);

    // The text pasted into a mail body with other line breaks.
    const rewrapped = PLAN.join(' ').replace(/(\S+ \S+ \S+ \S+ \S+ \S+ \S+) /g, '$1\r\n');
    await deliver([{ to: 'carol@example.test', folder: 'Sent', raw: `From: carol@example.test\r\nTo: x@rival.example\r\nSubject: fyi\r\n\r\n${rewrapped}\r\n` }]);
    const r = cli(inst, ['dlp', 'scan', '--mailbox', 'carol@example.test', ...fp]);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^carol@example\.test\tSent\t1\tmatch\tmerger \[merger: /m);

    const rm = cli(inst, ['dlp', 'fingerprint', 'remove', 'merger-plan', ...fp]);
    expect(rm.status).toBe(0);
    expect(rm.stderr).toMatch(/warning: the rules file no longer loads/);
    expect(cli(inst, ['dlp', 'fingerprint', 'remove', 'merger-plan', ...fp])).toMatchObject({ status: 2, stderr: expect.stringMatching(/no document named "merger-plan"/) });
  });
});
