/**
 * Every logged-in account's own pages, whatever its roles: change the
 * password (the directory's rules and hashing, as `postern user passwd`),
 * list the second factors and add one after typing the password again (the
 * registration routes of auth.ts do the work), download the account's
 * S/MIME certificates, and an Apple Mail profile (.mobileconfig). A password
 * typed here counts in the login throttle like any other.
 */
import type { Hono } from 'hono';
import { Directory } from '../../directory/directory.js';
import { checkPasswordStrength } from '../../directory/password-rules.js';
import { ROLES, type StoredCertificate } from '../../store/types.js';
import { when } from '../report/format.js';
import { clientEndpoints } from '../public/endpoints.js';
import { audit, field, htmlError, remoteAddress, requireRole, setSession, type ConsoleDeps, type ConsoleEnv, type Ctx } from './context.js';
import { escapeHtml as e, form, page } from './html.js';
import { appleMailProfile, MOBILECONFIG_TYPE } from './mobileconfig.js';
import { navFor } from './nav.js';
import { REAUTH_MS, type Session, type SessionStore } from './sessions.js';

export const ACCOUNT_PATH = '/console/account';
const FINGERPRINT_RE = /^[0-9a-f]{64}$/;

const pem = (der: Uint8Array): string =>
  `-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;

function certState(c: StoredCertificate, now: number): string {
  if (c.revoked) return 'revoked';
  if (now < c.notBefore) return 'not yet valid';
  return now >= c.notAfter ? 'expired' : 'valid';
}

const NOTICES: Readonly<Record<string, string>> = {
  password: 'Your password was changed; your other console sessions were ended.',
  factor: 'The factor was added.',
  confirmed: 'Password confirmed: you may add a factor in the next 5 minutes.',
};

export function mountSelfPages(app: Hono<ConsoleEnv>, d: ConsoleDeps, sessions: SessionStore): void {
  const directory = new Directory(d.store.meta.directory);
  const loggedIn = (c: Ctx) => requireRole(c, d, ROLES, 'Your account page');

  /** The password typed on a form, checked under the login throttle; the answer to send when it is not right. */
  const checkPassword = async (c: Ctx, s: Session, typed: string, what: string): Promise<Response | null> => {
    const outcome = await d.throttle.attempt(remoteAddress(c), s.address!, () => d.authenticate(s.address!, typed));
    if (outcome.result === 'ok') return null;
    const locked = outcome.result === 'locked' || outcome.result === 'busy';
    await audit(d, s.address!, what, s.address!, { result: 'refused', reason: locked ? 'throttled' : 'wrong password' });
    return locked ? htmlError(c, 429, 'Too many attempts', 'Too many failed passwords: try again later.') : htmlError(c, 401, 'Wrong password', 'The password you typed is not your current password.');
  };

  const reauthFresh = (s: Session) => s.reauthAt !== null && d.clock.now() - s.reauthAt < REAUTH_MS;

  app.get(ACCOUNT_PATH, async (c) => {
    const s = await loggedIn(c);
    if (s instanceof Response) return s;
    const address = s.address!;
    const now = d.clock.now();
    const [keys, totp, certs] = await Promise.all([
      d.store.meta.factors.listCredentials(address),
      d.store.meta.factors.getTotp(address),
      d.store.meta.certificates.list(address),
    ]);
    const notice = NOTICES[c.req.query('done') ?? ''];
    const factors = [
      ...keys.map((k) => `<tr><td>security key</td><td><code>${e(k.id.slice(0, 16))}…</code></td><td class="when">${e(when(k.createdAt))}</td><td class="when">${e(k.lastUsedAt === null ? 'never' : when(k.lastUsedAt))}</td></tr>`),
      ...(totp ? [`<tr><td>authenticator app (TOTP)</td><td></td><td class="when">${e(when(totp.createdAt))}</td><td></td></tr>`] : []),
    ];
    const addFactor = reauthFresh(s)
      ? '<h3>Security key</h3>' +
        form(s, '#', '<button type="submit">Register another security key</button> <span class="status" role="status"></span>', 'data-webauthn="register" id="webauthn-register"') +
        '<h3>Authenticator app (TOTP)</h3>' +
        `${totp ? '<p class="muted">A new secret replaces the one registered now.</p>' : ''}` +
        form(s, '/console/enroll/totp', '<button type="submit" id="add-totp">Show a TOTP secret</button>')
      : '<p>Type your password again to add a security key or an authenticator app.</p>' +
        form(s, `${ACCOUNT_PATH}/confirm`, '<label>Password <input type="password" name="password" autocomplete="current-password" required></label><button type="submit">Confirm</button>');
    const certRows = certs.map(
      (x) =>
        `<tr><td><a href="${ACCOUNT_PATH}/certificates/${e(x.fingerprint)}.pem">${e(x.fingerprint.slice(0, 16))}…</a></td><td>${e(x.source)}</td><td class="when">${e(when(x.notBefore))}</td><td class="when">${e(when(x.notAfter))}</td><td>${e(certState(x, now))}</td></tr>`,
    );
    const body = [
      notice ? `<p class="ok">${e(notice)}</p>` : '',
      `<p>${e(address)} — roles ${e(s.roles.join(', '))}</p>`,
      '<h2>Change password</h2>',
      form(
        s,
        `${ACCOUNT_PATH}/password`,
        '<label>Current password <input type="password" name="current" autocomplete="current-password" required></label>' +
          '<label>New password (at least 12 characters) <input type="password" name="password" autocomplete="new-password" required></label>' +
          '<label>New password again <input type="password" name="again" autocomplete="new-password" required></label><button type="submit">Change password</button>',
      ),
      '<p class="muted">The new password works at once for mail (IMAP, POP3, SMTP) and the console; your other console sessions end.</p>',
      '<h2>Second factors</h2>',
      factors.length
        ? `<table id="factors"><tr><th>Kind</th><th>Id</th><th>Added</th><th>Last used</th></tr>${factors.join('')}</table>`
        : '<p id="factors">No second factor is registered: you log in with your password alone.</p>',
      addFactor,
      '<h2>S/MIME certificates</h2>',
      certRows.length
        ? `<table id="certificates"><tr><th>Fingerprint (SHA-256), PEM</th><th>Source</th><th>Valid from</th><th>Valid to</th><th>State</th></tr>${certRows.join('')}</table>`
        : '<p id="certificates">No certificate is known for this address: postern has neither issued nor imported one.</p>',
      '<h2>Apple Mail (iPhone, iPad, Mac)</h2>',
      `<p><a href="/console/mobileconfig" id="mobileconfig">Download a configuration profile</a> that sets up this account (IMAP and SMTP over TLS). It holds no password: the device asks for it.</p>`,
    ].join('');
    return c.html(page('My account', s, body, navFor(s)));
  });

  app.post(`${ACCOUNT_PATH}/password`, async (c) => {
    const s = await loggedIn(c);
    if (s instanceof Response) return s;
    const [current, next, again] = [field(c, 'current'), field(c, 'password'), field(c, 'again')];
    // Checked before the current password, so a typo costs no throttle attempt; the form says nothing about the account.
    if (!current || !next) return htmlError(c, 400, 'Bad request', 'Give your current password and the new one twice.');
    if (next !== again) return htmlError(c, 400, 'Passwords differ', 'The new password and its repetition differ; nothing was changed.');
    if (next === current) return htmlError(c, 400, 'Same password', 'The new password is the current one; nothing was changed.');
    const weak = checkPasswordStrength(next);
    if (weak) return htmlError(c, 400, 'Password refused', `${weak}; nothing was changed.`);
    const wrong = await checkPassword(c, s, current, 'console.password_change');
    if (wrong) return wrong;
    await directory.setPassword(s.address!, next);
    // Whoever else holds a session of this account (a forgotten browser, a thief) is out; this one gets a new id.
    const ended = sessions.endAccount(s.address!, s);
    const fresh = sessions.rotate(s, {});
    setSession(c, fresh);
    await audit(d, s.address!, 'console.password_change', s.address!, { result: 'changed', sessionsEnded: ended });
    return c.redirect(`${ACCOUNT_PATH}?done=password`, 303);
  });

  app.post(`${ACCOUNT_PATH}/confirm`, async (c) => {
    const s = await loggedIn(c);
    if (s instanceof Response) return s;
    const wrong = await checkPassword(c, s, field(c, 'password'), 'console.reauth');
    if (wrong) return wrong;
    s.reauthAt = d.clock.now();
    await audit(d, s.address!, 'console.reauth', s.address!, { result: 'confirmed', for: 'factor_add' });
    return c.redirect(`${ACCOUNT_PATH}?done=confirmed`, 303);
  });

  app.get(`${ACCOUNT_PATH}/certificates/:file`, async (c) => {
    const s = await loggedIn(c);
    if (s instanceof Response) return s;
    const fp = (c.req.param('file') ?? '').replace(/\.pem$/, '');
    if (!FINGERPRINT_RE.test(fp)) return htmlError(c, 400, 'Bad request', 'not a certificate fingerprint');
    // Only the account's own: another address's certificate answers like a missing one.
    const cert = (await d.store.meta.certificates.list(s.address!)).find((x) => x.fingerprint === fp);
    if (!cert) return htmlError(c, 404, 'Not found', 'You have no certificate with that fingerprint.');
    await audit(d, s.address!, 'certificate.download', s.address!, { fingerprint: fp, source: cert.source });
    return c.body(pem(cert.der), 200, {
      'Content-Type': 'application/x-pem-file',
      'Content-Disposition': `attachment; filename="${s.address!.replace(/[^A-Za-z0-9._@-]/g, '_')}-${fp.slice(0, 8)}.pem"`,
    });
  });

  app.get('/console/mobileconfig', async (c) => {
    const s = await loggedIn(c);
    if (s instanceof Response) return s;
    const account = await d.store.meta.directory.getAccount(s.address!);
    const made = appleMailProfile({
      address: s.address!,
      displayName: account?.displayName ?? '',
      hostname: d.rpId,
      endpoints: clientEndpoints(d.listeners?.() ?? []),
    });
    await audit(d, s.address!, 'console.mobileconfig', s.address!, 'error' in made ? { result: 'unavailable' } : {});
    if ('error' in made) return htmlError(c, 404, 'Not available', made.error);
    return c.body(made.profile, 200, {
      'Content-Type': MOBILECONFIG_TYPE,
      'Content-Disposition': `attachment; filename="${d.rpId}-mail.mobileconfig"`,
    });
  });
}
