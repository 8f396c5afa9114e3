import { createHash, createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.js';
import { dkimRecordValueFromPrivateKey } from '../crypto/dkimkey.js';
import { runInit } from './init.js';

const root = mkdtempSync(join(tmpdir(), 'postern-init-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => join(root, `site${++n}`, 'etc'); // does not exist yet

const mode = (p: string): number => statSync(p).mode & 0o777;

async function handshake(certPem: string, keyPem: string, servername: string): Promise<boolean> {
  const server = tls.createServer({ cert: certPem, key: keyPem }, (s) => s.end('220 ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise<boolean>((resolve) => {
      const s = tls.connect({ host: '127.0.0.1', port, ca: certPem, servername }, () => {
        resolve(s.authorized);
        s.destroy();
      });
      s.on('error', () => resolve(false));
    });
  } finally {
    await new Promise((r) => server.close(r));
  }
}

describe('runInit', () => {
  it('writes a config, keys with mode 0600 and a private data folder', async () => {
    const dir = freshDir();
    const r = await runInit({ domain: 'Example.org', dir, portOffset: 10_000 });
    expect(r.configPath).toBe(join(dir, 'postern.toml'));
    expect(r.certPath).toBe(join(dir, 'tls', 'cert.pem'));
    expect(r.keyPath).toBe(join(dir, 'tls', 'key.pem'));
    expect(r.dkimKeyPath).toBe(join(dir, 'dkim', 'example.org.postern.key.pem'));
    for (const p of [r.configPath, r.certPath, r.keyPath, r.dkimKeyPath]) expect(existsSync(p)).toBe(true);
    expect(mode(r.keyPath)).toBe(0o600);
    expect(mode(r.dkimKeyPath)).toBe(0o600);
    expect(mode(join(dir, 'data'))).toBe(0o700);
    expect(statSync(join(dir, 'data')).isDirectory()).toBe(true);
    expect(mode(r.configPath) & 0o007).toBe(0); // nothing for others
    // No temporary files are left behind.
    for (const sub of ['', 'tls', 'dkim']) expect(readdirSync(join(dir, sub)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('writes a config that loads and points at the files it wrote', async () => {
    const dir = freshDir();
    const r = await runInit({ domain: 'example.org', dir, portOffset: 10_000 });
    const loaded = loadConfig(r.configPath);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
    const c = loaded.config;
    expect(c.server.hostname).toBe('mail.example.org');
    expect(c.server.port_offset).toBe(10_000);
    expect(c.server.data_dir).toBe(join(dir, 'data'));
    expect(c.tls.cert).toBe(r.certPath);
    expect(c.tls.key).toBe(r.keyPath);
    expect(join(c.dkim.key_dir, `example.org.${c.dkim.selector}.key.pem`)).toBe(r.dkimKeyPath);
  });

  it('writes a certificate and key that complete a TLS handshake for the host name', async () => {
    const r = await runInit({ domain: 'example.net', dir: freshDir(), hostname: 'mx.example.net' });
    const certPem = readFileSync(r.certPath, 'utf8');
    const keyPem = readFileSync(r.keyPath, 'utf8');
    expect(new X509Certificate(certPem).checkHost('mx.example.net')).toBe('mx.example.net');
    expect(await handshake(certPem, keyPem, 'mx.example.net')).toBe(true);
  });

  it('returns DNS records that match the keys on disk', async () => {
    const r = await runInit({ domain: 'example.org', dir: freshDir() });
    const dkimValue = dkimRecordValueFromPrivateKey(readFileSync(r.dkimKeyPath, 'utf8'));
    const dkimLine = r.dnsRecords.split('\n').find((l) => l.startsWith('postern._domainkey.example.org.\t')) ?? '';
    const strings = [...dkimLine.matchAll(/"([^"]*)"/g)].map((m) => m[1]).join('');
    expect(strings).toBe(dkimValue);
    const spki = createPublicKey(createPrivateKey(readFileSync(r.keyPath, 'utf8'))).export({ type: 'spki', format: 'der' });
    expect(r.dnsRecords).toContain(`_25._tcp.mail.example.org.\t3600\tIN\tTLSA\t3 1 1 ${createHash('sha256').update(spki).digest('hex')}`);
    expect(r.dnsRecords).toContain('example.org.\t3600\tIN\tMX\t10 mail.example.org.');
    expect(r.dnsRecords).toMatch(/^_mta-sts\.example\.org\.\t3600\tIN\tTXT\t"v=STSv1; id=[0-9a-f]{20}"$/m);
    expect(r.dnsRecords).toContain('_imaps._tcp.example.org.\t3600\tIN\tSRV\t0 1 993 mail.example.org.');
    expect(r.dnsRecords).toContain('_submission._tcp.example.org.\t3600\tIN\tSRV\t10 1 587 mail.example.org.');
    expect(r.dnsRecords).toContain('_imap._tcp.example.org.\t3600\tIN\tSRV\t0 0 0 .');
    expect(r.dnsRecords).toContain('mta-sts.example.org.\t3600\tIN\tCNAME\tmail.example.org.');
    expect(r.dnsRecords).toContain('autoconfig.example.org.\t3600\tIN\tCNAME\tmail.example.org.');
    expect(new X509Certificate(readFileSync(r.certPath, 'utf8')).checkHost('mta-sts.example.org')).toBe('mta-sts.example.org');
  });

  it('refuses to overwrite an existing config or key, naming the file, unless forced', async () => {
    const dir = freshDir();
    const first = await runInit({ domain: 'example.org', dir });
    const key = readFileSync(first.keyPath, 'utf8');
    await expect(runInit({ domain: 'example.org', dir })).rejects.toThrow(first.configPath);
    expect(readFileSync(first.keyPath, 'utf8')).toBe(key);

    const forced = await runInit({ domain: 'example.org', dir, force: true });
    expect(readFileSync(forced.keyPath, 'utf8')).not.toBe(key);
    expect(mode(forced.keyPath)).toBe(0o600);
  });

  it('refuses when only a key is in the way', async () => {
    const dir = freshDir();
    mkdirSync(join(dir, 'dkim'), { recursive: true });
    const stray = join(dir, 'dkim', 'example.org.postern.key.pem');
    writeFileSync(stray, 'old key');
    await expect(runInit({ domain: 'example.org', dir })).rejects.toThrow(stray);
    expect(readFileSync(stray, 'utf8')).toBe('old key');
    expect(existsSync(join(dir, 'postern.toml'))).toBe(false);
  });

  it('serves a local development install named localhost', async () => {
    const r = await runInit({ domain: 'example.test', dir: freshDir(), hostname: 'localhost', portOffset: 10_000 });
    const loaded = loadConfig(r.configPath);
    expect(loaded.ok && loaded.config.server.hostname).toBe('localhost');
    expect(await handshake(readFileSync(r.certPath, 'utf8'), readFileSync(r.keyPath, 'utf8'), 'localhost')).toBe(true);
  });

  it('writes nothing for a bad domain, host name or port offset', async () => {
    const dir = freshDir();
    await expect(runInit({ domain: 'not a domain', dir })).rejects.toThrow(/domain/);
    await expect(runInit({ domain: 'example.org', dir, hostname: 'bad host' })).rejects.toThrow(/server\.hostname/);
    await expect(runInit({ domain: 'example.org', dir, portOffset: 60_000 })).rejects.toThrow(/server\.port_offset/);
    expect(existsSync(dir)).toBe(false);
  });
});
