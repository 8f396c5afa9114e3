/** `postern queue show|hold|release|retry|delete`, `postern tlsrpt` and `postern dkim`, run as the built command. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { cli, makeInstallation, type Installation } from '../process/postern-process.js';
import { openStore } from '../../src/store/index.js';
import { Spool } from '../../src/queue/spool.js';
import { systemClock } from '../../src/core/clock.js';
import { newQueueId } from '../../src/core/ids.js';
import { message } from './helpers/harness.js';

describe('postern queue, tlsrpt and dkim commands', () => {
  let inst: Installation;
  const id = newQueueId();
  beforeAll(async () => {
    inst = await makeInstallation('ours.test');
    const store = await openStore({ backend: 'sqlite', dataDir: path.join(inst.dir, 'data') });
    try {
      await new Spool(store.blobs, store.meta.queue, systemClock).accept({
        queueId: id,
        data: Buffer.from(message('cli')),
        sender: 'alice@ours.test',
        recipients: [
          { address: 'bob@dest.test', transport: 'remote' },
          { address: 'carol@dest.test', transport: 'remote' },
        ],
        source: 'submission',
        clientAddress: '127.0.0.1',
        authUser: 'alice@ours.test',
        meta: { requireTls: true },
      });
      const at = Date.parse('2025-01-02T08:00:00Z');
      const data = { policyType: 'no-policy-found', policyStrings: [], mx: 'mx1.dest.test', ip: '192.0.2.1' };
      await store.meta.events.record('tls.success', 'dest.test', { ...data, protocol: 'TLSv1.3' }, at);
      await store.meta.events.record('tls.failure', 'dest.test', { ...data, resultType: 'certificate-expired', reason: 'CERT_HAS_EXPIRED', enforced: true }, at);
    } finally {
      await store.close();
    }
  });
  afterAll(() => inst.cleanup());

  const states = () => (JSON.parse(cli(inst, ['queue', 'list', '--json']).stdout) as { state: string }[]).map((r) => r.state);

  it('shows a message with its envelope, headers and recipients', () => {
    const r = cli(inst, ['queue', 'show', id]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`queue id:   ${id}`);
    expect(r.stdout).toContain('sender:     <alice@ours.test>');
    expect(r.stdout).toContain('REQUIRETLS: yes');
    expect(r.stdout).toContain('Subject:    test cli');
    expect(r.stdout).toMatch(/<bob@dest\.test> remote queued, 0 attempt\(s\)/);
    const j = JSON.parse(cli(inst, ['queue', 'show', id, '--json']).stdout) as { recipients: unknown[] };
    expect(j.recipients).toHaveLength(2);
    expect(cli(inst, ['queue', 'show', 'NOSUCHID']).status).toBe(2);
  });

  it('holds, releases, retries and deletes', () => {
    expect(cli(inst, ['queue', 'hold', id]).stdout).toContain(`${id}: held (2 recipients)`);
    expect(states()).toEqual(['held', 'held']);
    expect(cli(inst, ['queue', 'release', id]).stdout).toContain('released (2 recipients)');
    expect(states()).toEqual(['queued', 'queued']);
    expect(cli(inst, ['queue', 'retry', id]).stdout).toContain('due now (2 recipients)');
    const missing = cli(inst, ['queue', 'hold', 'NOSUCHID']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('NOSUCHID: no such message');
    expect(cli(inst, ['queue', 'delete', id]).stdout).toContain(`${id}: deleted`);
    expect(cli(inst, ['queue', 'list']).stdout).toContain('queue is empty');
    const audit = JSON.parse(cli(inst, ['audit-log', 'show', '--json']).stdout) as { action: string; subject: string }[];
    expect(audit.filter((x) => x.subject === id).map((x) => x.action)).toEqual(['queue.show', 'queue.show', 'queue.hold', 'queue.release', 'queue.retry', 'queue.delete']);
    expect(audit.some((x) => x.subject === 'NOSUCHID')).toBe(false);
  });

  it('writes the TLS-RPT report of a day as JSON', () => {
    const out = path.join(inst.dir, 'reports');
    const r = cli(inst, ['tlsrpt', '--day', '2025-01-02', '--out', out, '--org', 'Ours Inc']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('1 successful, 1 failed session(s)');
    const files = readdirSync(out);
    expect(files).toEqual([`mail.ours.test!dest.test!${Date.parse('2025-01-02T00:00:00Z') / 1000}!${Date.parse('2025-01-02T23:59:59Z') / 1000}.json`]);
    const report = JSON.parse(readFileSync(path.join(out, files[0]!), 'utf8')) as { 'organization-name': string; policies: { 'failure-details': unknown[] }[] };
    expect(report['organization-name']).toBe('Ours Inc');
    expect(report.policies[0]!['failure-details']).toEqual([
      { 'result-type': 'certificate-expired', 'receiving-mx-hostname': 'mx1.dest.test', 'receiving-ip': '192.0.2.1', 'failed-session-count': 1, 'failure-reason-code': 'CERT_HAS_EXPIRED' },
    ]);
    expect(cli(inst, ['tlsrpt', '--day', '2025-13-45']).status).toBe(2);
  });

  it('rotates a DKIM key: new selector and DNS record, old key signing until activation', () => {
    const rot = cli(inst, ['dkim', 'rotate', '--domain', 'ours.test']);
    expect(rot.status).toBe(0);
    const sel = /new key .* \(selector (s\d{8})\)/.exec(rot.stdout)?.[1];
    expect(sel).toBeDefined();
    expect(rot.stdout).toMatch(new RegExp(`^${sel}\\._domainkey\\.ours\\.test\\.\\t3600\\tIN\\tTXT\\t"v=DKIM1; k=rsa; p=`, 'm'));
    expect(rot.stdout).toContain('still signing with postern');
    expect(cli(inst, ['dkim', 'list']).stdout.trim()).toBe(`ours.test\t*postern ${sel}`);
    expect(cli(inst, ['dkim', 'activate', '--domain', 'ours.test', '--selector', sel!]).status).toBe(0);
    expect(cli(inst, ['dkim', 'list']).stdout.trim()).toBe(`ours.test\tpostern *${sel}`);
    expect(cli(inst, ['dkim', 'activate', '--domain', 'ours.test', '--selector', 'nope']).status).toBe(2);
    const audit = JSON.parse(cli(inst, ['audit-log', 'show', '--json', '--action', 'dkim.rotate']).stdout) as { subject: string; data: Record<string, unknown> }[];
    expect(audit).toMatchObject([{ subject: 'ours.test', data: { selector: sel, algorithm: 'rsa', activated: false, previous: 'postern' } }]);
    expect(JSON.stringify(audit)).not.toContain('PRIVATE KEY');
    expect(cli(inst, ['audit-log', 'show', '--action', 'dkim.activate']).stdout).toContain(`dkim.activate\tours.test\t{"previous":"postern","selector":"${sel}"}`);
  });
});
