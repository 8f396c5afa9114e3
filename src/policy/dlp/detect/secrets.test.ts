import { createHmac, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { scanCloudKeys, scanJwt, scanPasswords, scanPrivateKeys } from './secrets.js';

// Token shapes are assembled at run time so that no credential-looking literal sits in the repository.
const token = (prefix: string, body: string): string => prefix + body;
const alnum = (n: number): string => 'A1b2C3d4E5f6G7h8J9k0'.repeat(20).slice(0, n);

describe('private keys', () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const blocks: [string, string][] = [
    ['PKCS#8', ec.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string],
    ['SEC1 EC', ec.privateKey.export({ type: 'sec1', format: 'pem' }) as string],
    ['PKCS#1 RSA', rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string],
    [
      'encrypted PKCS#8',
      rsa.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }) as string,
    ],
    ['OpenSSH', `-----BEGIN OPENSSH PRIVATE KEY-----\n${'b3BlbnNzaC1rZXktdjE'.repeat(4)}\n-----END OPENSSH PRIVATE KEY-----`],
  ];

  it.each(blocks)('finds a %s block, whole', (_name, pem) => {
    const text = `Here is the key:\n${pem.trim()}\nregards`;
    const hits = scanPrivateKeys(text);
    expect(hits.map((h) => [h.value, h.confidence])).toEqual([[pem.trim(), 'high']]);
  });

  it('finds a block cut off before its END line', () => {
    expect(scanPrivateKeys('-----BEGIN RSA PRIVATE KEY-----\nMIIEow…')).toMatchObject([
      { value: '-----BEGIN RSA PRIVATE KEY-----', confidence: 'medium' },
    ]);
  });

  it('ignores public keys and certificates', () => {
    const pub = ec.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    expect(scanPrivateKeys(`${pub}\n-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----`)).toEqual([]);
  });

  it('stays linear with many BEGIN lines and no END', () => {
    expect(scanPrivateKeys('-----BEGIN PRIVATE KEY-----\n'.repeat(5000))).toHaveLength(1000);
  });
});

describe('cloud keys', () => {
  it.each([
    ['an AWS access key id', token('AKIA', 'Q3EGRP5WZ2LXN7TY')],
    ['an AWS session key id', token('ASIA', 'Q3EGRP5WZ2LXN7TY')],
    ['a Google API key', token('AIza', 'Sy' + alnum(33))],
    ['a GitHub token', token('ghp_', alnum(36))],
    ['a GitHub fine-grained token', token('github_pat_', alnum(22) + '_' + alnum(59))],
    ['a Slack token', token('xoxb-', '1234567890-0987654321-' + alnum(24))],
    ['a Stripe live key', token('sk_live_', alnum(24))],
  ])('finds %s', (_name, key) => {
    expect(scanCloudKeys(`config: ${key} end`).map((h) => [h.value, h.confidence])).toEqual([[key, 'high']]);
  });

  it('finds an AWS secret key by its name', () => {
    const secret = alnum(36) + 'x/+Z';
    const hits = scanCloudKeys(`aws_secret_access_key = ${secret}\n`);
    expect(hits.map((h) => h.value)).toEqual([secret]);
    expect(scanCloudKeys(`"SecretAccessKey": "${secret}"`).map((h) => h.value)).toEqual([secret]);
  });

  it.each([
    ['a 40-character string without the key name', `checksum = ${alnum(40)}`],
    ['a test-mode Stripe key', token('sk_test_', alnum(24))],
    ['a too-short GitHub-like token', token('ghp_', alnum(20))],
    ['an AWS-like id inside a longer word', token('XAKIA', 'Q3EGRP5WZ2LXN7TY')],
  ])('ignores %s', (_name, text) => {
    expect(scanCloudKeys(text)).toEqual([]);
  });

  it("rates AWS's documentation key low", () => {
    expect(scanCloudKeys(token('AKIA', 'IOSFODNN7EXAMPLE'))[0]?.confidence).toBe('low');
  });
});

describe('JWT', () => {
  const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = b64({ alg: 'HS256', typ: 'JWT' });
  const body = b64({ sub: '1234567890', name: 'Jane', iat: 1516239022 });
  const sig = createHmac('sha256', 'k').update(`${head}.${body}`).digest('base64url');
  const jwt = `${head}.${body}.${sig}`;

  it('finds a signed token', () => {
    expect(scanJwt(`Authorization: Bearer ${jwt}\n`).map((h) => h.value)).toEqual([jwt]);
  });

  it('finds an unsigned (alg none) token', () => {
    const none = `${b64({ alg: 'none' })}.${body}.`;
    expect(scanJwt(`t=${none} `).map((h) => h.value)).toEqual([none]);
  });

  it.each([
    ['a header without alg', `${b64({ foo: 'bar' })}.${body}.${sig}`],
    ['a header that is not JSON', `eyJub3QganNvbg.${body}.${sig}`],
    ['two parts only', `${head}.${body}`],
    ['a token inside a longer base64 run', `QUFB${jwt}`],
  ])('ignores %s', (_name, text) => {
    expect(scanJwt(text)).toEqual([]);
  });
});

describe('passwords', () => {
  it.each([
    ['password: hunter2!x', 'hunter2!x', 'medium'],
    ['pwd=Tr0ub4dor&3', 'Tr0ub4dor&3', 'medium'],
    ['"api_key": "abcd1234efgh"', 'abcd1234efgh', 'medium'],
    ['Passwort: Sommer2024.', 'Sommer2024', 'medium'],
    ['Password: correcthorse', 'correcthorse', 'low'],
  ])('finds %j', (text, value, confidence) => {
    expect(scanPasswords(`Hi,\n${text}\nBye`).map((h) => [h.value, h.confidence])).toEqual([[value, confidence]]);
  });

  it('reports where the value is', () => {
    const text = 'db password = s3cr3t!value';
    const [hit] = scanPasswords(text);
    expect(hit && text.slice(hit.index, hit.index + hit.length)).toBe('s3cr3t!value');
  });

  it.each([
    ['password: ****'],
    ['password: ********'],
    ['password=<placeholder>'],
    ['password: ${DB_PASSWORD}'],
    ['password: {{ vault_pw }}'],
    ['password: [REDACTED]'],
    ['password: xxxxxxxx'],
    ['password = changeme'],
    ['password: abc'],
    ['Your password must be changed every 90 days'],
    ['Reset your password: see the portal'],
    ['secret: yes'],
  ])('ignores %j', (text) => {
    expect(scanPasswords(text)).toEqual([]);
  });
});
