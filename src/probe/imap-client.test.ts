import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { generateSelfSigned } from '../crypto/selfsigned.js';
import { imapString, ProbeImapClient, searchUids } from './imap-client.js';

const NAME = 'mail.example.test';
let cert: { certPem: string; keyPem: string };
let other: { certPem: string };
const servers: Server[] = [];

beforeAll(async () => {
  cert = await generateSelfSigned({ hostname: NAME });
  other = await generateSelfSigned({ hostname: NAME });
});
afterAll(() => {
  for (const s of servers) s.close();
});

/** A TLS server on loopback that hands each line the client sends to `onLine`. */
async function server(onLine: (line: string, s: TLSSocket) => void, greeting = '* OK ready\r\n'): Promise<number> {
  const srv = createServer({ cert: cert.certPem, key: cert.keyPem }, (s) => {
    s.on('error', () => undefined);
    s.write(greeting);
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        onLine(buf.slice(0, i).replace(/\r$/, ''), s);
        buf = buf.slice(i + 1);
      }
    });
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return (srv.address() as AddressInfo).port;
}

const open = (port: number, commandMs = 2000, ca = cert.certPem) => ProbeImapClient.connect({ host: '127.0.0.1', port, ca, servername: NAME, commandMs });

describe('ProbeImapClient', () => {
  it('logs in with a literal for an 8-bit password and reads SEARCH results', async () => {
    const seen: string[] = [];
    let literalOf: string | null = null;
    const port = await server((line, s) => {
      seen.push(line);
      if (literalOf) {
        // The rest of the command after the literal (here: nothing more).
        s.write(`${literalOf} OK logged in\r\n`);
        return void (literalOf = null);
      }
      const tag = line.split(' ')[0]!;
      if (line.endsWith('{12}')) {
        literalOf = tag;
        return void s.write('+ go on\r\n');
      }
      if (line.includes('SEARCH')) return void s.write(`* SEARCH 4 17\r\n* OK {5}\r\nhello\r\n${tag} OK done\r\n`);
      if (/^p\d+ /.test(line)) s.write(`${tag} OK fine\r\n`);
    });
    const c = await open(port);
    await c.ok('LOGIN ', imapString('probe@example.test'), ' ', imapString('pässwörd-1'));
    const r = await c.ok('UID SEARCH HEADER X-Postern-Probe "abc"');
    expect(searchUids(r)).toEqual([4, 17]);
    expect(r.untagged).toContain('* OK {5}\r\nhello');
    await c.logout();
    expect(seen[0]).toBe('p1 LOGIN "probe@example.test" {12}');
    expect(seen[1]).toBe(Buffer.from('pässwörd-1', 'utf8').toString('latin1'));
  });

  it('fails a command the server never answers, within its deadline', async () => {
    const port = await server(() => undefined);
    const c = await open(port, 300);
    await expect(c.command('NOOP')).rejects.toThrow(/NOOP got no answer in 300 ms/);
    // The connection is gone: later commands fail at once.
    await expect(c.command('NOOP')).rejects.toThrow();
  });

  it('fails when no greeting comes', async () => {
    const port = await server(() => undefined, '');
    await expect(open(port, 300)).rejects.toThrow(/greeting got no answer/);
  });

  it('refuses an endless response line and an oversized literal', async () => {
    const long = await server((line, s) => void s.write('* ' + 'x'.repeat(100 * 1024)));
    const c1 = await open(long);
    await expect(c1.command('NOOP')).rejects.toThrow(/longer than 65536 bytes/);
    const lit = await server((line, s) => void s.write('* 1 FETCH (BODY[] {999999999}\r\n'));
    const c2 = await open(lit);
    await expect(c2.command('NOOP')).rejects.toThrow(/literal of 999999999 bytes/);
  });

  it('trusts only the certificate it is given', async () => {
    const port = await server(() => undefined);
    await expect(open(port, 2000, other.certPem)).rejects.toThrow(/IMAP connection failed/);
  });

  it('reports a tagged NO as an error naming the command', async () => {
    const port = await server((line, s) => void s.write(`${line.split(' ')[0]} NO [AUTHENTICATIONFAILED] bad\r\n`));
    const c = await open(port);
    await expect(c.ok('LOGIN "a" "b"')).rejects.toThrow(/IMAP LOGIN answered NO \[AUTHENTICATIONFAILED\] bad/);
    c.destroy();
  });
});
