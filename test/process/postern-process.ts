/**
 * Runs the built `postern` command as a real process for end-to-end tests:
 * an installation made by `postern init` in a temp folder, a config with
 * free loopback ports, and helpers to start, kill and restart the server.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ZoneServer } from '../../src/net/dns/testing/zone-server.js';

export const MAIN = path.resolve('dist/cli/main.js');
/** Extra config for tests that damage blob files on disk: every message a file, none kept in the database. */
export const FILES_ONLY = '[store]\ninline_blob_kb = 0\n';

/** Ports handed out in this process: the kernel may give a just-closed port twice. */
const issued = new Set<number>();

/**
 * Test servers get ports below the kernel's ephemeral range (32768 and up on
 * Linux), where no outgoing connection takes one as its source port between
 * the check and the bind, and each parallel test worker has a block of its
 * own, so two workers never pick the same port.
 */
const BLOCK = 1500;
const BASE = 20_000 + (Number(process.env.VITEST_POOL_ID ?? 0) % 8) * BLOCK;
let cursor = process.pid % BLOCK;

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A loopback port nothing listens on now, never one this process handed out before. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < BLOCK; attempt++) {
    const p = BASE + (cursor++ % BLOCK);
    if (!issued.has(p) && (await canListen(p))) {
      issued.add(p);
      return p;
    }
  }
  throw new Error(`no free port found in ${BASE}-${BASE + BLOCK - 1}`);
}

export interface Installation {
  dir: string;
  config: string;
  ports: { mx: number; submission: number; submissions: number; imap?: number; imaps?: number; pop3?: number; managesieve?: number; admin?: number };
  domain: string;
  cleanup(): void;
}

export function cli(inst: Pick<Installation, 'config'>, args: string[], input?: string) {
  const r = spawnSync(process.execPath, [MAIN, '-c', inst.config, ...args], { input: input ?? '', encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let emptyZone: Promise<ZoneServer> | null = null;

/**
 * The resolver an installation asks unless its test brings one: a DNS server
 * on loopback that knows no names (every lookup NXDOMAIN), so sender
 * authentication of inbound mail never leaves the machine.
 */
function defaultResolver(): Promise<ZoneServer> {
  emptyZone ??= new ZoneServer({}).start().then((z) => z.unref());
  return emptyZone;
}

export async function makeInstallation(
  domain = 'example.test',
  extra = '',
  opts: { imap?: boolean; pop3?: boolean; managesieve?: boolean; heartbeat?: number; logLevel?: string; /** More lines of the [admin] section (its port is free and on loopback). */ admin?: string } = {},
): Promise<Installation> {
  const dir = mkdtempSync(path.join(tmpdir(), 'postern-e2e-'));
  const init = spawnSync(process.execPath, [MAIN, 'init', '--domain', domain, '--dir', dir, '--hostname', `mail.${domain}`], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (init.status !== 0) throw new Error(`postern init failed: ${init.stderr}`);
  const ports = { mx: await freePort(), submission: await freePort(), submissions: await freePort(), ...(opts.imap ? { imap: await freePort(), imaps: await freePort() } : {}), ...(opts.pop3 ? { pop3: await freePort() } : {}), ...(opts.managesieve ? { managesieve: await freePort() } : {}), admin: await freePort() };
  const resolver = extra.includes('[delivery]') ? '' : `[delivery]\nresolver = "${(await defaultResolver()).address}"`;
  const imap = ports.imap ? `[imap]\naddress = "127.0.0.1"\nport = ${ports.imap}\ntls_port = ${ports.imaps}` : '[imap]\nenabled = false';
  const config = path.join(dir, 'test.toml');
  writeFileSync(
    config,
    `[server]
hostname = "mail.${domain}"
data_dir = "data"
${opts.heartbeat ? `heartbeat_interval = ${opts.heartbeat}` : ''}
[tls]
cert = "tls/cert.pem"
key = "tls/key.pem"
[smtp.mx]
address = "127.0.0.1"
port = ${ports.mx}
[smtp.submission]
address = "127.0.0.1"
port = ${ports.submission}
[smtp.submissions]
address = "127.0.0.1"
port = ${ports.submissions}
${imap}
${ports.pop3 ? `[pop3]\naddress = "127.0.0.1"\nport = ${ports.pop3}\ntls_port = ${await freePort()}` : '[pop3]\nenabled = false'}
${ports.managesieve ? `[managesieve]\naddress = "127.0.0.1"\nport = ${ports.managesieve}` : '[managesieve]\nenabled = false'}
[admin]
address = "127.0.0.1"
port = ${ports.admin}
${opts.admin ?? ''}
[log]
level = "${opts.logLevel ?? 'warn'}"
${resolver}
${extra}`,
  );
  return { dir, config, ports, domain, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface ServerProcess {
  proc: ChildProcess;
  stderr(): string;
  /** The JSON log lines written so far (the last 1 MiB). */
  stdout(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `postern start` and resolves once it printed that it is running. */
export async function startServer(inst: Installation, timeoutMs = 30_000): Promise<ServerProcess> {
  const proc = spawn(process.execPath, [MAIN, '-c', inst.config, 'start'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => {
    out = (out + d.toString()).slice(-1024 * 1024);
  });
  const ready = new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`postern did not start in ${timeoutMs} ms:\n${err}`)), timeoutMs);
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('postern is running')) {
        clearTimeout(t);
        resolve();
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`postern exited with ${code}:\n${err}`));
    });
  });
  await ready;
  return {
    proc,
    stderr: () => err,
    stdout: () => out,
    kill: (signal: NodeJS.Signals = 'SIGTERM') =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill(signal);
      }),
  };
}
