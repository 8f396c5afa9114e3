// A private Postfix on loopback: its own config_directory, queue_directory
// and data_directory under a temp folder, smtpd on a free port, no chroot,
// started as root as `master -c <dir> -d` (in the foreground, so it is
// ours to stop by pid). Mail to bench.test goes either
// to the discard transport (intake only) or to one Maildir through the
// virtual delivery agent (written as nobody).
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { freePort, onCleanup, run, start, stop, waitPort } from '../procs.mjs';

const POSTFIX = '/usr/sbin/postfix';
export const POSTFIX_PACKAGES = ['postfix'];

export function postfixAvailable() {
  return existsSync(POSTFIX) && existsSync('/usr/sbin/smtp-source') && existsSync('/usr/lib/postfix/sbin/master');
}

/** master.cf from Debian's, without chroot (our queue folder has no copy of /etc), smtpd on 127.0.0.1:port. */
function masterCf(port) {
  const lines = readFileSync('/etc/postfix/master.cf', 'utf8').split('\n');
  const out = [];
  for (const line of lines) {
    if (/^\s|^#|^$/.test(line)) {
      out.push(line);
      continue;
    }
    const f = line.split(/\s+/);
    if (f[0] === 'smtp' && f[1] === 'inet') f[0] = `127.0.0.1:${port}`;
    if (f.length >= 8 && f[4] === 'y') f[4] = 'n';
    out.push(f.join(' '));
  }
  return out.join('\n');
}

/**
 * Starts Postfix with mode 'discard' or 'maildir'. Returns { port, pid,
 * maildir, delivered(), config, stop() }.
 */
export async function startPostfix(root, mode, { tls } = {}) {
  const dir = path.join(root, `postfix-${mode}`);
  const conf = path.join(dir, 'etc');
  const maildirBase = path.join(dir, 'vmail');
  for (const d of [conf, path.join(dir, 'queue'), path.join(dir, 'data'), maildirBase]) mkdirSync(d, { recursive: true });
  // The daemons run as postfix and nobody: they must reach their folders.
  chmodSync(root, 0o755);
  chmodSync(dir, 0o755);
  await run('chown', ['postfix:postfix', path.join(dir, 'data')]);
  await run('chown', ['nobody:nogroup', maildirBase]);
  const port = await freePort();
  const main = {
    compatibility_level: '3.6',
    queue_directory: path.join(dir, 'queue'),
    data_directory: path.join(dir, 'data'),
    command_directory: '/usr/sbin',
    daemon_directory: '/usr/lib/postfix/sbin',
    meta_directory: '/etc/postfix',
    shlib_directory: '/usr/lib/postfix',
    mail_owner: 'postfix',
    setgid_group: 'postdrop',
    myhostname: 'mx.postfix.bench.test',
    mydomain: 'postfix.bench.test',
    mydestination: '',
    inet_interfaces: 'loopback-only',
    inet_protocols: 'ipv4',
    mynetworks: '127.0.0.0/8',
    smtpd_relay_restrictions: 'permit_mynetworks, reject_unauth_destination',
    virtual_mailbox_domains: 'bench.test',
    virtual_mailbox_base: maildirBase,
    virtual_mailbox_maps: 'static:rcpt/Maildir/',
    virtual_uid_maps: 'static:65534',
    virtual_gid_maps: 'static:65534',
    virtual_minimum_uid: '100',
    virtual_transport: mode === 'discard' ? 'discard:bench' : 'virtual',
    alias_maps: '',
    alias_database: '',
    smtputf8_enable: 'no',
    biff: 'no',
    disable_dns_lookups: 'yes',
    smtp_host_lookup: 'native',
    smtpd_peername_lookup: 'no',
    default_process_limit: '100',
    ...(tls ? { smtpd_tls_cert_file: tls.cert, smtpd_tls_key_file: tls.key, smtpd_tls_security_level: 'may', smtpd_tls_session_cache_database: '' } : {}),
  };
  writeFileSync(path.join(conf, 'main.cf'), Object.entries(main).map(([k, v]) => `${k} = ${v}`).join('\n') + '\n');
  writeFileSync(path.join(conf, 'master.cf'), masterCf(port));
  const check = await run(POSTFIX, ['-c', conf, 'check'], { timeoutMs: 60_000 });
  if (check.status !== 0) throw new Error(`postfix check: ${check.stderr}`);
  // master -d stays in the foreground: the pid we hold is Postfix's master.
  // Logged to a file of its own (set after `postfix check`, which cannot write it before postlogd runs).
  writeFileSync(path.join(conf, 'main.cf'), `maillog_file_prefixes = ${dir}\nmaillog_file = ${path.join(dir, 'maillog')}\n`, { flag: 'a' });
  // In a process group of its own: master signals its whole group when it stops.
  const proc = await start('/usr/lib/postfix/sbin/master', ['-c', conf, '-d'], { detached: true });
  const stopIt = async () => {
    await run(POSTFIX, ['-c', conf, 'stop'], { timeoutMs: 30_000 }).catch(() => undefined);
    await stop(proc.child);
  };
  onCleanup(stopIt);
  await waitPort(port, 30_000).catch((e) => {
    throw new Error(`${e.message}\n${readFileSync(path.join(dir, 'maillog'), 'utf8').slice(-3000)}`);
  });
  const version = (await run('/usr/sbin/postconf', ['-c', conf, '-h', 'mail_version'])).stdout.trim();
  const maildir = path.join(maildirBase, 'rcpt', 'Maildir');
  return {
    name: `postfix-${mode}`,
    port,
    pid: proc.pid,
    dir,
    maildir,
    rcpt: 'rcpt@bench.test',
    /** Messages in the Maildir (new/ and cur/); none for discard. */
    delivered: mode === 'maildir' ? () => countMaildir(maildir) : null,
    /** Messages still in the queue folders. */
    queued: () => countQueue(path.join(dir, 'queue')),
    config: `Postfix ${version}, private instance (own config_directory/queue_directory, no chroot), smtpd on 127.0.0.1:${port}, ${mode === 'discard' ? 'virtual_transport = discard' : 'virtual(8) to one Maildir'}, default_process_limit 100, DNS off${tls ? ', STARTTLS with the shared bench certificate' : ''}`,
    stop: stopIt,
  };
}

export function countMaildir(maildir) {
  let n = 0;
  for (const sub of ['new', 'cur']) {
    try {
      n += readdirSync(path.join(maildir, sub)).length;
    } catch {
      // not created yet
    }
  }
  return n;
}

function countQueue(queue) {
  let n = 0;
  const walk = (d, depth) => {
    let entries = [];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isDirectory() && depth < 3) walk(path.join(d, e.name), depth + 1);
      else if (e.isFile()) n++;
    }
  };
  for (const q of ['maildrop', 'incoming', 'active', 'deferred']) walk(path.join(queue, q), 0);
  return n;
}
