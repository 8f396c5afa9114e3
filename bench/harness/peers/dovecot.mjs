// A private Dovecot on loopback, configured as bench/imap.mjs configures
// its own (base_dir, state_dir and log under a temp folder, passwd-file
// users, imaps only, a static userdb running as nobody), here pointed at the
// Maildir another peer (Postfix's virtual) delivers into.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, onCleanup, run, start, waitPort } from '../procs.mjs';

export const DOVECOT = '/usr/sbin/dovecot';

export async function startDovecot(root, { maildir, user, password, tls }) {
  if (!existsSync(DOVECOT)) throw new Error('dovecot is not installed (apt-get install dovecot-imapd)');
  const dir = path.join(root, 'dovecot');
  for (const d of ['run', 'state']) mkdirSync(path.join(dir, d), { recursive: true });
  const port = await freePort();
  writeFileSync(path.join(dir, 'users'), `${user}:{PLAIN}${password}::::::\n`);
  writeFileSync(
    path.join(dir, 'dovecot.conf'),
    `base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <${tls.cert}
ssl_key = <${tls.key}
auth_mechanisms = plain
first_valid_uid = 1
mail_location = maildir:${maildir}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=${dir}/home
}
service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    port = ${port}
    ssl = yes
  }
}
`,
  );
  mkdirSync(path.join(dir, 'home'), { recursive: true });
  await run('chown', ['nobody:nogroup', path.join(dir, 'home')]);
  const proc = await start(DOVECOT, ['-F', '-c', path.join(dir, 'dovecot.conf')]);
  onCleanup(() => proc.stop());
  await waitPort(port, 30_000);
  const version = (await run(DOVECOT, ['--version'])).stdout.trim();
  return { port, pid: proc.pid, config: `Dovecot ${version}, private instance (own base_dir/state_dir, passwd-file, imaps on 127.0.0.1:${port}), mail_location = maildir: the Postfix Maildir; IDLE notices by inotify` };
}
