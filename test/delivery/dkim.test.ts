/**
 * DKIM signatures made by postern verify with an independent implementation
 * (Debian's python3-dkim, public key handed in through dnsfunc, no DNS).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateDkimKey, type DkimKey } from '../../src/crypto/dkimkey.js';
import { DkimKeyDir, DkimSigner, keyFileName } from '../../src/policy/dkim/index.js';
import { ManualClock } from '../../src/core/clock.js';
import { activate, newSelector } from '../../src/cli/commands/dkim.js';
import { makeHarness, message, type Harness } from './helpers/harness.js';
import { startPeer, type Peer } from './helpers/peer.js';

const VERIFY = `
import dkim, os, sys
records = {}
for line in os.environ['DKIM_RECORDS'].split('\\n'):
    if line:
        name, value = line.split(' ', 1)
        records[name.encode()] = value.encode()
def dnsfunc(name, timeout=5):
    return records.get(name.rstrip(b'.') + b'.') or records.get(name)
msg = sys.stdin.buffer.read()
print('PASS' if dkim.verify(msg, dnsfunc=dnsfunc) else 'FAIL')
`;

/** Runs python3-dkim on a message; records maps "<selector>._domainkey.<domain>." to TXT values. */
function pyVerify(msg: Buffer, records: Record<string, string>): string {
  const env = { ...process.env, DKIM_RECORDS: Object.entries(records).map(([n, v]) => `${n} ${v}`).join('\n') };
  const r = spawnSync('/usr/bin/python3', ['-c', VERIFY], { input: msg, env, encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`python3 dkim failed: ${r.stderr}`);
  return r.stdout.trim();
}

let rsa: DkimKey;
let ed: DkimKey;
beforeAll(async () => {
  rsa = await generateDkimKey({ algorithm: 'rsa' });
  ed = await generateDkimKey({ algorithm: 'ed25519' });
});

describe('DKIM signing', () => {
  let dir = '';
  let h: Harness | null = null;
  let peer: Peer | null = null;
  afterEach(async () => {
    await h?.close();
    await peer?.close();
    h = peer = null;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = '';
  });
  const keys = (sel = 'postern', key = rsa) => {
    writeFileSync(path.join(dir, keyFileName('ours.test', sel)), key.privateKeyPem, { mode: 0o600 });
    return new DkimKeyDir(dir, 'postern', new ManualClock(0), 0);
  };
  it('signs with RSA and Ed25519 keys that python3-dkim verifies; a changed body fails', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'postern-dkim-'));
    for (const [sel, key] of [['postern', rsa], ['ed', ed]] as const) {
      const signer = new DkimSigner(keys(sel, key));
      if (sel === 'ed') await activate(dir, 'ours.test', 'ed');
      const r = await signer.sign({ message: Buffer.from(message(`dkim-${sel}`)), source: 'submission' });
      expect(r).toMatchObject({ signed: true, domain: 'ours.test', selector: sel });
      const rec = { [`${sel}._domainkey.ours.test.`]: key.dnsRecordValue };
      expect(pyVerify(r.message, rec)).toBe('PASS');
      expect(r.message.toString()).toMatch(new RegExp(`^DKIM-Signature: .*a=${key.algorithm === 'rsa' ? 'rsa' : 'ed25519'}-sha256`, 's'));
      expect(pyVerify(Buffer.from(r.message.toString().replace('the marker is', 'the marker was')), rec)).toBe('FAIL');
    }
  });

  it('does not sign mail relayed from the Internet, or From domains without a key', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'postern-dkim-'));
    const signer = new DkimSigner(keys());
    expect(await signer.sign({ message: Buffer.from(message('relayed')), source: 'mx' })).toMatchObject({ signed: false, why: 'relayed from the Internet' });
    const foreign = message('foreign').replace('alice@ours.test', 'eve@elsewhere.test');
    expect(await signer.sign({ message: Buffer.from(foreign), source: 'submission' })).toMatchObject({ signed: false, why: 'no DKIM key for elsewhere.test' });
  });

  it('ARC-seals mail it forwards with the Authentication-Results it added on arrival; python3-dkim validates the chain', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'postern-dkim-'));
    const signer = new DkimSigner(keys(), Date.now, 'mx.ours.test');
    const arrived = `Authentication-Results: mx.ours.test; spf=pass smtp.mailfrom=news@partner.test; dkim=none; dmarc=pass header.from=partner.test; arc=none\r\n${message('forwarded').replace('alice@ours.test', 'news@partner.test')}`;
    const r = await signer.sign({ message: Buffer.from(arrived), source: 'mx', forwardedBy: 'ours.test' });
    expect(r).toMatchObject({ signed: true, arc: true, domain: 'ours.test' });
    expect(r.message.toString()).toMatch(/^ARC-Seal: i=1; [^]*\r\nARC-Message-Signature: i=1; [^]*\r\nARC-Authentication-Results: i=1; mx\.ours\.test;/);
    const py = spawnSync(
      '/usr/bin/python3',
      ['-c', `import dkim, os, sys
rec = {b'postern._domainkey.ours.test.': os.environ['REC'].encode()}
cv, results, comment = dkim.arc_verify(sys.stdin.buffer.read(), dnsfunc=lambda n, timeout=5: rec.get(n))
print(cv.decode())`],
      { input: r.message, env: { ...process.env, REC: rsa.dnsRecordValue }, encoding: 'utf8', timeout: 30_000 },
    );
    expect(py.stdout.trim(), py.stderr).toBe('pass');
    // Not verified here (no Authentication-Results of ours): nothing to vouch for.
    expect(await signer.sign({ message: Buffer.from(message('unverified')), source: 'mx', forwardedBy: 'ours.test' })).toMatchObject({ signed: false });
  });

  it('signs outbound mail on its way out; the peer receives a message python3-dkim verifies', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'postern-dkim-'));
    peer = await startPeer({ tls: null });
    h = await makeHarness({
      zone: { 'dest.test': { A: ['127.0.0.1'] } },
      port: peer.port,
      signer: new DkimSigner(keys()),
    });
    await h.enqueue({ to: ['bob@dest.test'], body: message('dkim-e2e') });
    await h.agent.pass();
    expect(peer.received).toHaveLength(1);
    expect(pyVerify(peer.received[0]!.data, { 'postern._domainkey.ours.test.': rsa.dnsRecordValue })).toBe('PASS');
  });

  it('rotation: a new selector signs only once activated', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'postern-dkim-'));
    const source = keys();
    const sel = await newSelector(dir, 'ours.test', new Date(Date.UTC(2025, 0, 2)));
    expect(sel).toBe('s20250102');
    writeFileSync(path.join(dir, keyFileName('ours.test', sel)), ed.privateKeyPem, { mode: 0o600 });
    expect(await newSelector(dir, 'ours.test', new Date(Date.UTC(2025, 0, 2)))).toBe('s20250102b');
    const signer = new DkimSigner(source);
    expect(await signer.sign({ message: Buffer.from(message('rot1')), source: 'local' })).toMatchObject({ selector: 'postern' });
    await activate(dir, 'ours.test', sel);
    const r = await signer.sign({ message: Buffer.from(message('rot2')), source: 'local' });
    expect(r).toMatchObject({ selector: sel });
    expect(pyVerify(r.message, { [`${sel}._domainkey.ours.test.`]: ed.dnsRecordValue })).toBe('PASS');
  });
});
