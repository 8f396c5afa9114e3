/** The composition root starts both POP3 listeners from [pop3] and lists them for the start banner. */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/cli/start.js';
import { parseConfig } from '../../src/config/index.js';
import { hashPassword } from '../../src/crypto/password.js';
import { inboxOf, provisionMailbox } from '../../src/mailbox/provision.js';
import { silentLogger } from '../../src/metrics/logger.js';
import { generateSelfSigned } from '../../src/crypto/selfsigned.js';
import { freePort } from '../process/postern-process.js';
import { DOMAIN, sampleMessage } from './harness.js';
import { b64, ok, poplibSession } from './python-client.js';

const dir = mkdtempSync(path.join(tmpdir(), 'postern-pop3-start-'));
let server: RunningServer | undefined;
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('startServer with [pop3] enabled', () => {
  it('binds pop3 (STLS) and pop3s (implicit TLS) and serves the store it opened', async () => {
    const cert = await generateSelfSigned({ hostname: `mail.${DOMAIN}` });
    mkdirSync(path.join(dir, 'tls'));
    writeFileSync(path.join(dir, 'tls', 'cert.pem'), cert.certPem);
    writeFileSync(path.join(dir, 'tls', 'key.pem'), cert.keyPem, { mode: 0o600 });
    const [port, tlsPort] = [await freePort(), await freePort()];
    const parsed = parseConfig(
      `[server]\nhostname = "mail.${DOMAIN}"\ndata_dir = "data"\n` +
        '[smtp.mx]\nenabled = false\n[smtp.submission]\nenabled = false\n[smtp.submissions]\nenabled = false\n[imap]\nenabled = false\n[admin]\nenabled = false\n[managesieve]\nenabled = false\n' +
        `[pop3]\naddress = "127.0.0.1"\nport = ${port}\ntls_port = ${tlsPort}\n[log]\nlevel = "silent"\n`,
      dir,
    );
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    server = await startServer(parsed.config, silentLogger());
    expect(server.listeners.filter((l) => l.name.startsWith('pop3'))).toEqual([
      { name: 'pop3', address: '127.0.0.1', port, tls: 'starttls' },
      { name: 'pop3s', address: '127.0.0.1', port: tlsPort, tls: 'implicit' },
    ]);

    const { store } = server;
    const address = `carol@${DOMAIN}`;
    await store.meta.directory.addDomain(DOMAIN, Date.now());
    const account = await store.meta.directory.addAccount({ address, passwordHash: await hashPassword('a long enough password') }, Date.now());
    await provisionMailbox(store.meta.mailboxes, account.id, Date.now());
    const inbox = await inboxOf(store.meta.mailboxes, account.id, Date.now());
    const msg = sampleMessage(1);
    const ref = await store.blobs.put(msg);
    await store.meta.mailboxes.append(inbox.id, { blobId: ref.id, size: ref.size, internalDate: Date.now() });

    const ca = path.join(dir, 'tls', 'cert.pem');
    const creds = { ca, user: address, password: 'a long enough password' };
    const viaTls = await poplibSession({ mode: 'ssl', port: tlsPort, ...creds }, [['login'], ['retr', 1], ['quit']]);
    expect(b64(ok(viaTls.results[1])).equals(msg)).toBe(true);
    const viaStls = await poplibSession({ mode: 'stls', port, ...creds }, [['stls'], ['login'], ['stat'], ['quit']]);
    expect(ok(viaStls.results[2])).toEqual([1, msg.length]);
  });
});
