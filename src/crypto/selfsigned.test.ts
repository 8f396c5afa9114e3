import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { generateSelfSigned } from './selfsigned.js';

const HOST = 'mail.example.org';

/** Serves one TLS connection with the pair and reports how the client saw it. */
async function handshake(certPem: string, keyPem: string, servername: string): Promise<{ authorized: boolean; error?: string; reply?: string }> {
  const server = tls.createServer({ cert: certPem, key: keyPem }, (s) => s.end('hello'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port, ca: certPem, servername });
      let reply = '';
      socket.on('data', (d: Buffer) => (reply += d.toString()));
      socket.on('end', () => resolve({ authorized: socket.authorized, reply }));
      socket.on('error', (e) => resolve({ authorized: false, error: e.message }));
    });
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('generateSelfSigned', () => {
  it('names the host, the alt names and the loopback addresses', async () => {
    const { certPem } = await generateSelfSigned({ hostname: HOST, altNames: ['example.org', '192.0.2.7', '2001:db8::25'] });
    const cert = new X509Certificate(certPem);
    expect(cert.subjectAltName?.split(', ')).toEqual([
      'DNS:mail.example.org',
      'DNS:example.org',
      'IP Address:192.0.2.7',
      'IP Address:2001:DB8:0:0:0:0:0:25',
      'IP Address:127.0.0.1',
      'IP Address:0:0:0:0:0:0:0:1',
    ]);
    expect(cert.subject).toBe(`CN=${HOST}`);
    expect(cert.checkHost(HOST)).toBe(HOST);
    expect(cert.checkHost('example.org')).toBe('example.org');
    expect(cert.checkHost('other.example.org')).toBeUndefined();
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
  });

  it('is a self-signed ECDSA P-256 server certificate, not a CA', async () => {
    const { certPem, keyPem } = await generateSelfSigned({ hostname: HOST });
    const cert = new X509Certificate(certPem);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // extended key usage: serverAuth
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const key = createPrivateKey(keyPem);
    expect(cert.checkPrivateKey(key)).toBe(true);
    expect(keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/); // PKCS#8
  });

  it('is valid from an hour before now for the given number of days', async () => {
    const now = new Date('2030-06-15T12:00:00Z');
    const cert = new X509Certificate((await generateSelfSigned({ hostname: HOST, days: 30, now })).certPem);
    expect(new Date(cert.validFrom).toISOString()).toBe('2030-06-15T11:00:00.000Z');
    expect(new Date(cert.validTo).toISOString()).toBe('2030-07-15T12:00:00.000Z');
    const far = new X509Certificate((await generateSelfSigned({ hostname: HOST, now })).certPem);
    expect(new Date(far.validTo).toISOString()).toBe('2032-09-17T12:00:00.000Z'); // 825 days
  });

  it('gives each certificate its own key and serial number', async () => {
    const [a, b] = await Promise.all([generateSelfSigned({ hostname: HOST }), generateSelfSigned({ hostname: HOST })]);
    expect(a.keyPem).not.toBe(b.keyPem);
    const [ca, cb] = [new X509Certificate(a.certPem), new X509Certificate(b.certPem)];
    expect(ca.serialNumber).not.toBe(cb.serialNumber);
    expect(ca.serialNumber).toMatch(/^[0-7][0-9A-F]{31}$/);
  });

  it('keeps a host name longer than a common name allows in the SAN', async () => {
    const long = `${'a'.repeat(60)}.example.org`;
    const cert = new X509Certificate((await generateSelfSigned({ hostname: long })).certPem);
    expect(cert.checkHost(long)).toBe(long);
  });

  it('refuses bad input', async () => {
    await expect(generateSelfSigned({ hostname: HOST, days: 0 })).rejects.toThrow(RangeError);
    await expect(generateSelfSigned({ hostname: 'bad host' })).rejects.toThrow(RangeError);
    await expect(generateSelfSigned({ hostname: HOST, altNames: ['x\ny'] })).rejects.toThrow(RangeError);
  });

  it('loads into a TLS context and completes a verified handshake', async () => {
    const { certPem, keyPem } = await generateSelfSigned({ hostname: HOST });
    expect(() => tls.createSecureContext({ cert: certPem, key: keyPem })).not.toThrow();
    const ok = await handshake(certPem, keyPem, HOST);
    expect(ok).toEqual({ authorized: true, reply: 'hello' });
    // The client really checks the name: another name fails verification.
    const wrong = await handshake(certPem, keyPem, 'imap.example.net');
    expect(wrong.authorized).toBe(false);
    expect(wrong.error).toMatch(/altnames|Hostname/i);
  });
});
