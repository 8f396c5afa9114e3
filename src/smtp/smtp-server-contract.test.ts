/**
 * What postern relies on inside smtp-server (connection.ts subclasses its
 * connection and reads its private state; data.ts relies on how it ends a
 * data stream). package.json pins the exact version; this suite fails loudly
 * if an upgrade moves or reshapes any of it.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMTPServer, type SMTPServerDataStream } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { generateSelfSigned } from '../crypto/selfsigned.js';
import { PosternSmtpServer, type PosternConnection } from './connection.js';

const PINNED = '3.21.6';
const read = (p: string): { version?: string; dependencies?: Record<string, string> } => JSON.parse(readFileSync(new URL(p, import.meta.url), 'utf8'));

let server: PosternSmtpServer;
let port = 0;
let streamError: Promise<Error & { code?: string }>;
let gotStream: (e: Error & { code?: string }) => void = () => undefined;

beforeAll(async () => {
  const cert = await generateSelfSigned({ hostname: 'contract.example.test' });
  streamError = new Promise((r) => (gotStream = r));
  server = new PosternSmtpServer({
    key: cert.keyPem,
    cert: cert.certPem,
    logger: false,
    authOptional: true,
    disabledCommands: ['AUTH'],
    onData(stream: SMTPServerDataStream, _session, callback) {
      stream.on('error', (e: Error & { code?: string }) => {
        gotStream(e);
        callback(e);
      });
      stream.resume();
    },
  }, { loginTimeoutMs: 600_000, commandTimeoutMs: 600_000, minTransferRate: 1, isEstablished: () => true });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.server.address() as net.AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

/** A connected client and the server's connection object for it. */
async function connect(): Promise<{ sock: net.Socket; conn: PosternConnection; replies: string[]; next: () => Promise<string> }> {
  const sock = net.connect(port, '127.0.0.1');
  const replies: string[] = [];
  let wake: () => void = () => undefined;
  sock.on('data', (b: Buffer) => {
    replies.push(...b.toString('latin1').split('\r\n').filter(Boolean));
    wake();
  });
  const next = async (): Promise<string> => {
    for (let i = 0; i < 200 && replies.length === 0; i++) await new Promise<void>((r) => ((wake = r), setTimeout(r, 25)));
    return replies.shift() ?? '';
  };
  expect(await next()).toMatch(/^220 /);
  const conn = [...server.connections].at(-1) as PosternConnection;
  return { sock, conn, replies, next };
}

describe('smtp-server contract', () => {
  it('is the pinned version, in package.json and installed', () => {
    expect(read('../../package.json').dependencies?.['smtp-server']).toBe(PINNED);
    expect(read('../../node_modules/smtp-server/package.json').version).toBe(PINNED);
  });

  it('has the connection methods postern overrides or calls', () => {
    const proto = SMTPConnection.prototype as unknown as Record<string, unknown>;
    for (const name of ['send', 'handler_HELO', 'handler_EHLO', 'handler_AUTH', 'handler_MAIL', 'handler_RCPT', '_createParser', '_parseAddressCommand', '_isDisabled', 'close', 'init', '_onClose', '_setListeners', 'connectionReady']) {
      expect(typeof proto[name], name).toBe('function');
    }
    const server = SMTPServer.prototype as unknown as Record<string, unknown>;
    for (const name of ['connect', '_onError', '_onClientConnect', 'listen', 'close']) expect(typeof server[name], name).toBe('function');
  });

  it('connects a client the way PosternSmtpServer.connect copies', () => {
    // connect() is copied with postern's class; a change to the original must be looked at.
    const src = SMTPServer.prototype.connect.toString().replace(/\s+/g, ' ');
    for (const piece of ['new SMTPConnection(this, socket, socketOptions)', 'this.connections.add(connection)', "connection.on('error', err => this._onError(err))", "connection.on('connect', data => this._onClientConnect(data))", 'connection.init()']) {
      expect(src).toContain(piece);
    }
  });

  it('starts a connection the way PosternConnection.greet replaces', () => {
    // greet() is init() without the fixed 100 ms pause; a change to the original must be looked at.
    const proto = SMTPConnection.prototype as unknown as Record<string, () => void>;
    const src = String(proto.init).replace(/\s+/g, ' ');
    for (const piece of ['this._setListeners(', 'this._server.options.maxClients && this._server.connections.size > this._server.options.maxClients', "' Too many connected clients, try again in a moment', false", 'setTimeout(() => this.connectionReady(), 100)']) {
      expect(src).toContain(piece);
    }
    // Reverse DNS would be a wait before every greeting; listener.ts turns it off.
    expect(String(proto.connectionReady)).toContain('this._server.options.disableReverseLookup');
  });

  it('keeps the private state shutdownIfIdle and the EHLO override read', async () => {
    const { sock, conn } = await connect();
    const c = conn as unknown as Record<string, unknown>;
    expect(c._closing).toBe(false);
    expect(c._closed).toBe(false);
    expect(c._upgrading).toBe(false);
    expect(c._handlerPending).toBe(false);
    expect(c._dataStream).toBe(false);
    expect(c._server).toBe(server);
    expect(c.secure).toBe(false);
    expect((c._server as SMTPServer).options.disabledCommands).toEqual(['AUTH']);
    // A session.disabledCommands array replaces the server's list (the EHLO override depends on it).
    const isDisabled = (cmd: string) => (conn as unknown as { _isDisabled(c: string): boolean })._isDisabled(cmd);
    expect(isDisabled('AUTH')).toBe(true);
    conn.session.disabledCommands = ['STARTTLS'];
    expect(isDisabled('AUTH')).toBe(false);
    expect(isDisabled('STARTTLS')).toBe(true);
    conn.session.disabledCommands = undefined;
    sock.destroy();
  });

  it('parses MAIL and RCPT the way the parameter check expects, junk after the path included', async () => {
    const { sock, conn } = await connect();
    expect(conn._parseAddressCommand('mail from', Buffer.from('MAIL FROM:<a@b.test> SIZE=10'))).toMatchObject({ address: 'a@b.test', args: { SIZE: '10' } });
    // Left alone, the library takes a second address as a parameter named "<C@D.TEST>".
    expect(conn._parseAddressCommand('rcpt to', Buffer.from('RCPT TO:<a@b.test> <c@d.test>'))).toMatchObject({ address: 'a@b.test', args: { '<C@D.TEST>': true } });
    expect(conn._parseAddressCommand('mail from', Buffer.from('MAIL FROM:a@b.test'))).toBe(false);
    sock.destroy();
  });

  it('answers EHLO through send(250, lines), and reports an over-long line as a parser error', async () => {
    const { sock, conn, next } = await connect();
    const calls: unknown[][] = [];
    const send = conn.send.bind(conn);
    conn.send = (...args: Parameters<typeof send>) => {
      calls.push(args);
      send(...args);
    };
    sock.write('EHLO client.example.test\r\n');
    for (let l = await next(); l.startsWith('250-'); l = await next());
    const ehlo = calls.find((a) => a[0] === 250 && Array.isArray(a[1]));
    expect(ehlo?.[1]).toEqual(expect.arrayContaining(['PIPELINING', '8BITMIME', 'STARTTLS']));
    // The deadlines read the parser's data mode and wrap its _write (see connection.ts).
    const parser = (conn as unknown as { _parser: { startDataMode: unknown; _dataMode: unknown; _write: unknown } })._parser;
    expect(typeof parser.startDataMode).toBe('function');
    expect(parser._dataMode).toBe(false);
    expect(typeof parser._write).toBe('function');
    // The parser's only error is an over-long line; postern's handler replaced the library's 421.
    sock.write(`NOOP ${'x'.repeat(100 * 1024)}\r\n`);
    expect(await next()).toBe('500 5.5.2 Line too long');
    sock.destroy();
  });

  it('ends a data stream with an ECONNECTION error when the client leaves mid-message', async () => {
    const { sock, next } = await connect();
    for (const line of ['EHLO client.example.test', 'MAIL FROM:<a@b.test>', 'RCPT TO:<c@d.test>', 'DATA']) {
      sock.write(line + '\r\n');
      for (let l = await next(); l[3] === '-'; l = await next());
    }
    sock.write('Subject: half\r\n\r\nhalf a message');
    await new Promise((r) => setTimeout(r, 50));
    sock.destroy();
    const err = await Promise.race([streamError, new Promise<null>((r) => setTimeout(() => r(null), 10_000))]);
    expect(err?.code).toBe('ECONNECTION');
  });
});
