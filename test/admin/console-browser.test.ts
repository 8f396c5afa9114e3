/**
 * The console in a real browser: Debian's headless Chromium driven by
 * playwright-core, a CDP WebAuthn virtual authenticator as the security key.
 * Real SMTP traffic (Python's smtplib) feeds the overview chart and puts one
 * message in the quarantine (a blocked attachment type); the administrator
 * enrolls with the one-time code, registers the key, logs out, logs in with
 * password and key, releases the message, and the auditor (a second account,
 * TOTP) finds the release in the audit log. Screenshots are saved under
 * $POSTERN_TEST_ARTIFACTS or a temporary folder (printed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { cli, makeInstallation, startServer, type Installation, type ServerProcess } from '../process/postern-process.js';
import { enrollmentCode, HOST, quarantine, sendMail, until, unbase32 } from './console-helpers.js';
import { totpCode, TOTP_STEP_MS } from '../../src/admin/console/codes.js';

const PASSWORD = 'correct horse battery staple';
const ADMIN = 'admin@example.test';
const AUDITOR = 'audit@example.test';
const ALICE = 'alice@example.test';

let inst: Installation;
let server: ServerProcess;
let browser: Browser;
let artifacts: string;
const origin = () => `https://${HOST}:${inst.ports.admin!}`;

/** base64 SHA-256 of the certificate's public key: Chromium trusts exactly this key, and only it. */
function spkiHash(certFile: string): string {
  const pub = execFileSync('openssl', ['x509', '-in', certFile, '-noout', '-pubkey'], { timeout: 30_000 });
  const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'der'], { input: pub, timeout: 30_000 });
  return execFileSync('openssl', ['dgst', '-sha256', '-binary'], { input: der, timeout: 30_000 }).toString('base64');
}


async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

async function login(page: Page, address: string): Promise<void> {
  await page.goto(`${origin()}/console/login`);
  await page.fill('input[name=address]', address);
  await page.fill('input[name=password]', PASSWORD);
  await page.click('main button[type=submit]');
  await page.waitForURL(/\/console\/(enroll|factor|overview)/, { timeout: 15_000 }).catch(async (e: Error) => {
    throw new Error(`${e.message}\n${(await page.textContent('main')) ?? ''}`);
  });
}

/** A fresh context with its own virtual authenticator (CTAP2, internal, resident keys, user verification). */
async function contextWithKey(): Promise<{ ctx: BrowserContext; page: Page; authenticatorId: string; cdp: import('playwright-core').CDPSession }> {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: false });
  const page = await ctx.newPage();
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return { ctx, page, authenticatorId, cdp };
}

beforeAll(async () => {
  artifacts = process.env.POSTERN_TEST_ARTIFACTS ? path.resolve(process.env.POSTERN_TEST_ARTIFACTS, 'console-browser') : mkdtempSync(path.join(tmpdir(), 'postern-console-shots-'));
  mkdirSync(artifacts, { recursive: true });
  console.log(`console browser test: screenshots in ${artifacts}`);
  inst = await makeInstallation('example.test', '[policy]\nrelease_roles = ["mailadmin"]\n[policy.attachments]\naction = "quarantine"\n');
  for (const [addr, args] of [
    [ADMIN, ['--role', 'mailadmin']],
    [AUDITOR, ['--role', 'auditor']],
    [ALICE, []],
  ] as const) {
    const r = cli(inst, ['user', 'add', addr, ...args], `${PASSWORD}\n`);
    expect(r.status, r.stderr).toBe(0);
  }
  server = await startServer(inst);
  // playwright starts Chromium with a fresh temporary profile of its own, removed on close.
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    timeout: 60_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--host-resolver-rules=MAP ${HOST} 127.0.0.1`,
      `--ignore-certificate-errors-spki-list=${spkiHash(path.join(inst.dir, 'tls/cert.pem'))}`,
    ],
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.kill('SIGTERM');
  inst?.cleanup();
});

describe('console in Chromium', () => {
  it('enrolls a security key, logs in with it, charts real traffic, releases held mail, and the auditor sees the release', { timeout: 300_000 }, async () => {
    // Real mail: three clean messages and one with an attachment type the policy holds.
    for (let i = 0; i < 3; i++) await sendMail(inst, { from: `sender${i}@remote.test`, to: ALICE, subject: `hello ${i}` });
    await sendMail(inst, { from: 'sender@remote.test', to: ALICE, subject: 'invoice attached', attach: 'invoice.exe' });
    const held = await until('a held message', 30_000, () => quarantine(inst).find((q) => q.state === 'held'));

    const { ctx, page, authenticatorId, cdp } = await contextWithKey();
    await login(page, ADMIN);
    expect(page.url()).toMatch(/\/console\/enroll$/);
    await shot(page, '01-enroll-code');
    await page.fill('input[name=code]', enrollmentCode(inst, ADMIN));
    await Promise.all([page.waitForURL(/\/console\/enroll$/), page.click('button[type=submit]')]);
    await Promise.all([page.waitForURL(/\/console\/overview$/, { timeout: 30_000 }), page.click('#webauthn-register button')]);
    const creds = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(creds.credentials).toHaveLength(1);

    await page.click('header button'); // log out
    await page.waitForURL(/\/console\/login$/);
    await login(page, ADMIN);
    expect(page.url()).toMatch(/\/console\/factor$/);
    await shot(page, '02-second-factor');
    await Promise.all([page.waitForURL(/\/console\/overview$/, { timeout: 30_000 }), page.click('#webauthn-login button')]);

    // The chart of messages accepted over SMTP has bars: the events of the mail above, read from the store.
    const bars = await until('bars in the overview chart', 20_000, async () => {
      await page.reload();
      const n = await page.locator('figure').first().locator('svg rect').count();
      return n > 0 ? n : undefined;
    });
    expect(bars).toBeGreaterThan(0);
    const title = await page.locator('figure').first().locator('svg rect title').first().textContent();
    expect(title).toMatch(/: none [1-9]/); // plain SMTP on loopback, a non-zero count
    await shot(page, '03-overview');

    await page.goto(`${origin()}/console/quarantine`);
    await Promise.all([page.waitForURL(new RegExp(`/console/quarantine/${held.queueId}$`)), page.click(`a[href="/console/quarantine/${held.queueId}"]`)]);
    expect(await page.textContent('main')).toContain('invoice attached');
    await shot(page, '04-held-message');
    await Promise.all([page.waitForURL(new RegExp(`/console/quarantine/${held.queueId}$`)), page.click('#release')]);
    expect(await page.textContent('main')).toContain(`released by ${ADMIN}`);
    await shot(page, '05-released');
    expect(quarantine(inst).find((q) => q.queueId === held.queueId)).toMatchObject({ state: 'released', actor: ADMIN });
    await ctx.close();

    // The auditor, with TOTP, in a second browser context.
    const actx = await browser.newContext();
    const apage = await actx.newPage();
    await login(apage, AUDITOR);
    await apage.fill('input[name=code]', enrollmentCode(inst, AUDITOR));
    await Promise.all([apage.waitForURL(/\/console\/enroll$/), apage.click('button[type=submit]')]);
    await Promise.all([apage.waitForURL(/\/console\/enroll\/totp$/), apage.click('form[action="/console/enroll/totp"] button')]);
    const secret = unbase32((await apage.textContent('#totp-secret'))!.trim());
    await apage.fill('input[name=code]', totpCode(secret, Math.floor(Date.now() / TOTP_STEP_MS)));
    await Promise.all([apage.waitForURL(/\/console\/overview$/), apage.click('main button[type=submit]')]);
    await apage.goto(`${origin()}/console/audit`);
    const row = apage.locator('#audit tr', { hasText: 'quarantine.release' });
    expect(await row.count()).toBe(1);
    expect(await row.textContent()).toContain(ADMIN);
    expect(await row.textContent()).toContain(held.queueId);
    await shot(apage, '06-audit-log');
    await actx.close();
  });
});
