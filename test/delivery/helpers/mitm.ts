/**
 * A man in the middle on 127.0.0.1: relays TCP between postern and a peer,
 * records every byte postern sends, and can strip STARTTLS from the peer's
 * EHLO reply (the downgrade attack REQUIRETLS, MTA-STS and DANE defend against).
 */
import { createServer, connect, type Server, type Socket, type AddressInfo } from 'node:net';

export interface Mitm {
  port: number;
  /** Everything the client (postern) sent, in order. */
  fromClient(): Buffer;
  close(): Promise<void>;
}

export async function startMitm(targetPort: number, opts: { stripStartTls: boolean }): Promise<Mitm> {
  const captured: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: targetPort });
    sockets.add(client);
    sockets.add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
    client.on('data', (d: Buffer) => {
      captured.push(Buffer.from(d));
      upstream.write(d);
    });
    let pending = '';
    upstream.on('data', (d: Buffer) => {
      if (!opts.stripStartTls) return void client.write(d);
      // Line by line, so a keyword split across packets is still caught.
      pending += d.toString('latin1');
      const cut = pending.lastIndexOf('\n') + 1;
      const lines = pending.slice(0, cut);
      pending = pending.slice(cut);
      if (lines) client.write(Buffer.from(lines.replace(/^(250[ -])STARTTLS/gim, '$1XSTRIPPED'), 'latin1'));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    fromClient: () => Buffer.concat(captured),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
