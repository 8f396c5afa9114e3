/**
 * `postern tlsrpt --send` as an administrator runs it (the built command): a
 * day of outbound TLS events in the store, the recipient domain's
 * _smtp._tls record on a loopback DNS server; the report file is written and
 * the same report is queued as mail, once. The command runs asynchronously
 * (not spawnSync), so this process's DNS server can answer it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZoneServer } from '../../src/net/dns/testing/zone-server.js';
import { openStore } from '../../src/store/index.js';
import { MAIN, makeInstallation, type Installation } from '../process/postern-process.js';
import { run } from '../support/procs.js';

const DAY = '2026-11-20';
const at = Date.parse(`${DAY}T08:00:00Z`);

describe('postern tlsrpt --send (built command)', () => {
  let inst: Installation;
  let zone: ZoneServer;
  beforeAll(async () => {
    zone = await new ZoneServer({ '_smtp._tls.far.test': { TXT: ['v=TLSRPTv1; rua=mailto:tls-reports@far.test'] } }).start();
    inst = await makeInstallation('ours.test', `[delivery]\nresolver = "${zone.address}"\nresolver_timeout = 10`);
    const store = await openStore({ backend: 'sqlite', dataDir: path.join(inst.dir, 'data') });
    try {
      const sts = { policyType: 'sts', policyStrings: ['version: STSv1', 'mode: enforce', 'mx: mx.far.test', 'max_age: 86400'], mxPatterns: ['mx.far.test'] };
      await store.meta.events.recordMany([
        { kind: 'tls.success', subject: 'far.test', data: { ...sts, mx: 'mx.far.test', ip: '192.0.2.7' }, at },
        { kind: 'tls.success', subject: 'far.test', data: { ...sts, mx: 'mx.far.test', ip: '192.0.2.7' }, at: at + 1 },
        { kind: 'tls.failure', subject: 'far.test', data: { ...sts, mx: 'mx.far.test', ip: '192.0.2.7', resultType: 'validation-failure', reason: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }, at: at + 2 },
      ]);
    } finally {
      await store.close();
    }
  }, 120_000);
  afterAll(async () => {
    inst?.cleanup();
    await zone?.stop();
  });

  const cli = async (args: string[]) => {
    const r = await run(process.execPath, [MAIN, '-c', inst.config, ...args], { timeoutMs: 90_000 });
    return { status: r.code, stdout: r.stdout, stderr: r.stderr };
  };

  it('writes the file and queues the same report as mail, once', async () => {
    const out = path.join(inst.dir, 'reports');
    let r = await cli(['tlsrpt', '--day', DAY, '--out', out, '--send']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/!far\.test!\d+!\d+\.json\t2 successful, 1 failed session\(s\)/);
    expect(r.stdout).toMatch(/^far\.test\tsent\tmailto:tls-reports@far\.test ok$/m);
    const file = r.stdout.split('\t')[0]!;
    const written = JSON.parse(readFileSync(file, 'utf8')) as unknown;

    r = await cli(['tlsrpt', '--day', DAY, '--out', out, '--send']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^far\.test\talready$/m);

    const store = await openStore({ backend: 'sqlite', dataDir: path.join(inst.dir, 'data') });
    try {
      const pending = (await store.meta.queue.listPending()).filter((p) => p.address === 'tls-reports@far.test');
      expect(pending).toHaveLength(1); // not a second time
      const msg = (await store.meta.queue.getMessage(pending[0]!.queueId))!;
      const raw = Buffer.from(await store.blobs.get(msg.blobId));
      const parsed = JSON.parse(
        execFileSync(
          '/usr/bin/python3',
          [
            '-c',
            `import sys, json, base64, email
m = email.message_from_bytes(sys.stdin.buffer.read())
p = [x for x in m.get_payload() if x.get_content_type() == "application/tlsrpt+gzip"][0]
print(json.dumps({"subject": m["Subject"], "type": m.get_content_type(), "name": p.get_filename(), "gz": base64.b64encode(p.get_payload(decode=True)).decode()}))`,
          ],
          { input: raw, timeout: 30_000 },
        ).toString('utf8'),
      ) as { subject: string; type: string; name: string; gz: string };
      expect(parsed.type).toBe('multipart/report');
      expect(parsed.subject).toBe(`Report Domain: far.test Submitter: mail.ours.test Report-ID: <${DAY}.far.test@mail.ours.test>`);
      expect(parsed.name).toBe(`${path.basename(file)}.gz`);
      expect(JSON.parse(gunzipSync(Buffer.from(parsed.gz, 'base64')).toString('utf8'))).toEqual(written);
      expect((await store.meta.events.list('tlsrpt.sent')).map((e) => [e.subject, e.data.day])).toEqual([['far.test', DAY]]);
    } finally {
      await store.close();
    }
    expect(zone.queries.filter((q) => q.includes('_smtp._tls.far.test'))).toHaveLength(1);
  }, 120_000);
});
