/**
 * A plain account adds a security key from its account page in a real
 * browser (Debian's headless Chromium, playwright-core, a CDP WebAuthn
 * virtual authenticator): the console's own script and the enrollment
 * routes register it after the password is typed again, and the next login
 * asks for the key. The admin listener runs in this process over a
 * temporary SQLite store.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminListener, type AdminListener } from '../../src/admin/server.js';
import { systemClock } from '../../src/core/clock.js';
import { hashPassword } from '../../src/crypto/password.js';
import { generateSelfSigned } from '../../src/crypto/selfsigned.js';
import { Directory } from '../../src/directory/directory.js';
import { silentLogger } from '../../src/metrics/logger.js';
import { PosternMetrics } from '../../src/metrics/prometheus.js';
import { DEFAULT_LOGIN_THROTTLE, LoginThrottle } from '../../src/net/throttle.js';
import { openStore, type Store } from '../../src/store/index.js';

const HOST = 'mail.example.test';
const USER = 'dana@example.test';
const PW = 'correct horse battery staple';

let dir: string;
let store: Store;
let admin: AdminListener;
let browser: Browser;
const origin = () => `https://${HOST}:${admin.port}`;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'postern-console-self-'));
  store = await openStore({ backend: 'sqlite', dataDir: path.join(dir, 'data') });
  await store.meta.directory.addDomain('example.test', Date.now());
  await store.meta.directory.addAccount({ address: USER, passwordHash: await hashPassword(PW), roles: ['user'] }, Date.now());
  const cert = await generateSelfSigned({ hostname: HOST });
  writeFileSync(path.join(dir, 'cert.pem'), cert.certPem);
  const directory = new Directory(store.meta.directory);
  admin = await startAdminListener(
    { address: '127.0.0.1', port: 0, tls: { cert: cert.certPem, key: cert.keyPem, minVersion: 'TLSv1.2' }, hostname: HOST },
    {
      metrics: new PosternMetrics({ processMetrics: false }),
      meta: store.meta,
      node: 'test',
      listeners: () => [],
      clock: systemClock,
      log: silentLogger(),
      console: {
        store,
        authenticate: (a, p) => directory.authenticate(a, p),
        throttle: new LoginThrottle({ ...DEFAULT_LOGIN_THROTTLE, delayMinMs: 10 }, systemClock),
        releaseRoles: [],
        slaTargetPct: 99.9,
      },
    },
    { token: null, ca: null },
  );
  const pub = execFileSync('openssl', ['x509', '-in', path.join(dir, 'cert.pem'), '-noout', '-pubkey'], { timeout: 30_000 });
  const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'der'], { input: pub, timeout: 30_000 });
  const spki = execFileSync('openssl', ['dgst', '-sha256', '-binary'], { input: der, timeout: 30_000 }).toString('base64');
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    timeout: 60_000,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--host-resolver-rules=MAP ${HOST} 127.0.0.1`, `--ignore-certificate-errors-spki-list=${spki}`],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await admin?.close();
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('my account in Chromium', () => {
  it('registers a security key after the password is typed again, and the next login asks for it', { timeout: 120_000 }, async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('WebAuthn.enable', { enableUI: false });
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    const loginWithPassword = async () => {
      await page.goto(`${origin()}/console/login`);
      await page.fill('input[name=address]', USER);
      await page.fill('input[name=password]', PW);
      await page.click('main button[type=submit]');
    };
    await loginWithPassword();
    await page.waitForURL(/\/console\/quarantine/, { timeout: 15_000 });
    await page.goto(`${origin()}/console/account`);
    expect(await page.textContent('#factors')).toContain('No second factor');
    await page.fill('form[action="/console/account/confirm"] input[name=password]', PW);
    await page.click('form[action="/console/account/confirm"] button');
    await page.waitForURL(/done=confirmed/, { timeout: 15_000 });
    await page.click('#webauthn-register button');
    await page.waitForURL(/\/console\/account$/, { timeout: 30_000 }).catch(async (e: Error) => {
      throw new Error(`${e.message}\n${(await page.textContent('main')) ?? ''}`);
    });
    expect(await page.textContent('#factors')).toContain('security key');
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials).toHaveLength(1);
    const [stored] = await store.meta.factors.listCredentials(USER);
    expect(stored?.id).toBe(credentials[0]!.credentialId.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_'));

    // Logged out and in again: the password leads to the second factor, and the key finishes the login.
    await page.click('header form button');
    await loginWithPassword();
    await page.waitForURL(/\/console\/factor/, { timeout: 15_000 });
    await page.click('#webauthn-login button');
    await page.waitForURL(/\/console\/quarantine/, { timeout: 30_000 });
    const actions = (await store.meta.audit.list({ since: 0, limit: 100 })).filter((r) => r.actor === USER).map((r) => `${r.action}:${String(r.data.factor ?? r.data.kind ?? r.data.result ?? '')}`);
    expect(actions).toEqual(['console.login:password', 'console.reauth:confirmed', 'console.factor_add:webauthn', 'console.logout:', 'console.login:webauthn']);
    await ctx.close();
  });
});
