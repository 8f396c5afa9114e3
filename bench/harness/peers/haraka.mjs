// Haraka from the npm registry, installed at run time into the git-ignored
// bench/.peers/haraka (never a dependency of postern), configured in a temp
// folder: smtp.ini listening on a free loopback port with nodes = 1 or 2
// (cluster), rcpt_to.in_host_list for bench.test and queue/discard.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, onCleanup, run, start, waitPort } from '../procs.mjs';

const PEERS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../.peers');
const PREFIX = path.join(PEERS, 'haraka');
const BIN = path.join(PREFIX, 'node_modules', 'Haraka', 'bin', 'haraka');

/** Installs Haraka with npm into bench/.peers/haraka unless it is there. */
export async function ensureHaraka() {
  if (existsSync(BIN)) return;
  mkdirSync(PREFIX, { recursive: true });
  console.error(`installing Haraka into ${PREFIX} (npm install --prefix) ...`);
  const r = await run('npm', ['install', '--prefix', PREFIX, '--no-audit', '--no-fund', '--omit=dev', 'Haraka'], { timeoutMs: 600_000 });
  if (r.status !== 0 || !existsSync(BIN)) throw new Error(`npm install Haraka failed:\n${r.stderr.slice(-2000)}`);
}

export async function startHaraka(root, nodes, { tls } = {}) {
  await ensureHaraka();
  const dir = path.join(root, `haraka-${nodes}`);
  const inst = await run(process.execPath, [BIN, '-i', dir], { timeoutMs: 60_000 });
  if (inst.status !== 0) throw new Error(`haraka -i: ${inst.stderr}`);
  const port = await freePort();
  const cfg = path.join(dir, 'config');
  writeFileSync(path.join(cfg, 'smtp.ini'), `listen=127.0.0.1:${port}\nnodes=${nodes}\n`);
  if (tls) {
    copyFileSync(tls.cert, path.join(cfg, 'tls_cert.pem'));
    copyFileSync(tls.key, path.join(cfg, 'tls_key.pem'));
  }
  writeFileSync(path.join(cfg, 'plugins'), `${tls ? 'tls\n' : ''}rcpt_to.in_host_list\nqueue/discard\n`);
  writeFileSync(path.join(cfg, 'host_list'), 'bench.test\n');
  writeFileSync(path.join(cfg, 'log.ini'), '[main]\nlevel=warn\ntimestamps=false\n');
  writeFileSync(path.join(cfg, 'me'), 'mx.haraka.bench.test\n');
  const proc = await start(process.execPath, [BIN, '-c', dir], { env: { ...process.env, YES_REALLY_DO_DISCARD: '1' } });
  onCleanup(() => proc.stop());
  await waitPort(port, 60_000).catch((e) => {
    throw new Error(`${e.message}\n${proc.output().slice(-3000)}`);
  });
  const version = JSON.parse(readFileSync(path.join(PREFIX, 'node_modules', 'Haraka', 'package.json'), 'utf8')).version;
  return {
    name: `haraka-${nodes}`,
    port,
    pid: proc.pid,
    rcpt: 'rcpt@bench.test',
    config: `Haraka ${version} (npm, node ${process.version}), nodes=${nodes}${nodes > 1 ? ' (cluster)' : ''}, plugins rcpt_to.in_host_list + queue/discard (YES_REALLY_DO_DISCARD), log level warn${tls ? ', tls plugin with the shared bench certificate' : ''}, 127.0.0.1:${port}`,
    stop: () => proc.stop(),
  };
}
