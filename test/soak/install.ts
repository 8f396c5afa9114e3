/**
 * A postern installation for the soak test: made by `postern init`, every
 * listener (SMTP, IMAP, POP3) on free loopback ports, limits set explicitly,
 * outbound mail routed through a loopback DNS server, and — when running as
 * root — the data folder on its own small tmpfs so the disk can be filled.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MAIN, freePort, type Installation } from '../process/postern-process.js';

export interface SoakInstallation extends Installation {
  imap: number;
  pop3s: number;
  dataDir: string;
  caPem: string;
  caFile: string;
  /** Whether dataDir is a tmpfs of its own (the disk-full fault needs one). */
  tmpfs: boolean;
}

export interface SoakInstallOptions {
  domain: string;
  /** "127.0.0.1:port" of the DNS server outbound delivery asks. */
  resolver: string;
  /** Port of the remote sink (outbound delivery connects to every MX on it). */
  sinkPort: number;
  tmpfsBytes: number;
}

function mount(dir: string, bytes: number): boolean {
  if (process.getuid?.() !== 0) return false;
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0700`, 'tmpfs', dir], { encoding: 'utf8' });
  return r.status === 0;
}

export function unmount(dir: string): void {
  // Lazy: a process that still holds a file open (a killed server's last moments) must not keep the mount.
  spawnSync('umount', ['-l', dir], { encoding: 'utf8' });
}

export async function makeSoakInstallation(o: SoakInstallOptions): Promise<SoakInstallation> {
  const dir = mkdtempSync(path.join(tmpdir(), 'postern-soak-'));
  const init = spawnSync(process.execPath, [MAIN, 'init', '--domain', o.domain, '--dir', dir, '--hostname', `mail.${o.domain}`], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (init.status !== 0) throw new Error(`postern init failed: ${init.stderr}`);
  const dataDir = path.join(dir, 'data');
  // Move what init wrote (the store with the domain) onto the tmpfs.
  const staged = path.join(dir, 'data.init');
  renameSync(dataDir, staged);
  mkdirSync(dataDir, { mode: 0o700 });
  const tmpfs = mount(dataDir, o.tmpfsBytes);
  cpSync(staged, dataDir, { recursive: true });
  rmSync(staged, { recursive: true, force: true });

  const ports = { mx: await freePort(), submission: await freePort(), submissions: await freePort() };
  const imap = await freePort();
  const imaps = await freePort();
  const pop3 = await freePort();
  const pop3s = await freePort();
  const config = path.join(dir, 'soak.toml');
  // Limits are explicit: their defaults are being reworked, and this test is about faults, not limits.
  writeFileSync(
    config,
    `[server]
hostname = "mail.${o.domain}"
data_dir = "data"
[tls]
cert = "tls/cert.pem"
key = "tls/key.pem"
[smtp]
max_connections = 200
max_connections_per_client = 50
socket_timeout = 60
[smtp.mx]
address = "127.0.0.1"
port = ${ports.mx}
[smtp.submission]
address = "127.0.0.1"
port = ${ports.submission}
[smtp.submissions]
address = "127.0.0.1"
port = ${ports.submissions}
[imap]
address = "127.0.0.1"
port = ${imap}
tls_port = ${imaps}
max_connections = 200
max_connections_per_client = 50
[admin]
enabled = false
[managesieve]
enabled = false
[pop3]
address = "127.0.0.1"
port = ${pop3}
tls_port = ${pop3s}
max_connections = 200
max_connections_per_client = 50
[auth]
max_failures = 1000
[queue]
retry_min = 1
retry_max = 2
[delivery]
port = ${o.sinkPort}
resolver = "${o.resolver}"
resolver_timeout = 1
connect_timeout = 2
command_timeout = 3
data_timeout = 5
# Short deadlines keep the outbound lease short, so mail leased by a killed process is retried soon.
greeting_timeout = 3
mail_timeout = 3
rcpt_timeout = 3
data_init_timeout = 3
data_block_timeout = 3
[integrity]
scrub_interval = 0
[log]
level = "warn"
`,
  );
  const caFile = path.join(dir, 'tls', 'cert.pem');
  return {
    dir,
    config,
    ports,
    domain: o.domain,
    imap,
    pop3s,
    dataDir,
    caFile,
    caPem: readFileSync(caFile, 'utf8'),
    tmpfs,
    cleanup: () => {
      if (tmpfs) unmount(dataDir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
