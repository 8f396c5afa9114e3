/**
 * Logging in: password (the directory's check, under the shared login
 * throttle), then for administrator roles a second factor — a WebAuthn
 * security key or a TOTP code — or, for an administrator without one,
 * enrollment with a one-time code from `postern console enroll`; any other
 * account that registered a factor (on its account page) must prove it too.
 * Each step that raises privilege gets a new session id. The registration
 * routes serve both enrollment and a logged-in account adding a factor after
 * typing its password again (pages-self.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Hono } from 'hono';
import {
  generateAuthenticationOptions, generateRegistrationOptions, verifyAuthenticationResponse, verifyRegistrationResponse,
  type AuthenticationResponseJSON, type AuthenticatorTransportFuture, type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { normalizeAddress } from '../../core/address.js';
import { enrollmentCodeDigest, isAdmin, matchTotp, otpauthUri, base32 } from './codes.js';
import { audit, field, htmlError, remoteAddress, setSession, type ConsoleDeps, type ConsoleEnv, type Ctx } from './context.js';
import { escapeHtml as e, form, page } from './html.js';
import { homeOf, navFor } from './nav.js';
import { REAUTH_MS, type Session, type SessionStore } from './sessions.js';

/** Wrong second factors or enrollment codes one session may try before it ends. */
export const MAX_SESSION_FAILURES = 5;

const loginForm = (s: Session, error = ''): string =>
  page(
    'Log in',
    null,
    `${error ? `<p class="error">${e(error)}</p>` : ''}${form(
      s,
      '/console/login',
      '<label>Address <input type="text" name="address" autocomplete="username" required></label><label>Password <input type="password" name="password" autocomplete="current-password" required></label><button type="submit">Log in</button>',
    )}`,
  );

const webauthnForm = (s: Session, kind: 'login' | 'register', label: string): string =>
  form(s, '#', `<button type="submit">${e(label)}</button> <span class="status" role="status"></span>`, `data-webauthn="${kind}" id="webauthn-${kind}"`);

const transports = (t: readonly string[]): AuthenticatorTransportFuture[] => t as AuthenticatorTransportFuture[];

export function mountAuth(app: Hono<ConsoleEnv>, d: ConsoleDeps, sessions: SessionStore): void {
  /** One more wrong factor or code: counted against the source too; the session ends after MAX_SESSION_FAILURES. */
  const failed = async (c: Ctx, s: Session, what: string): Promise<boolean> => {
    s.failures++;
    d.throttle.failSource(remoteAddress(c));
    await audit(d, s.address ?? 'unknown', 'console.factor_failed', s.address ?? '', { what, failures: s.failures });
    if (s.failures < MAX_SESSION_FAILURES) return false;
    sessions.destroy(s);
    setSession(c, null);
    return true;
  };

  const loggedIn = async (c: Ctx, s: Session, factor: string): Promise<Session> => {
    const next = sessions.rotate(s, { stage: 'full' });
    setSession(c, next);
    await audit(d, next.address!, 'console.login', next.address!, { factor, roles: next.roles });
    return next;
  };

  app.get('/console/login', (c) => {
    let s = c.get('session');
    if (s?.stage === 'full') return c.redirect(homeOf(s), 303);
    if (!s || s.stage !== 'anonymous') {
      if (s) sessions.destroy(s);
      s = sessions.create();
      setSession(c, s);
    }
    return c.html(loginForm(s));
  });

  app.post('/console/login', async (c) => {
    const s = c.get('session')!;
    const typed = field(c, 'address').trim();
    const password = field(c, 'password');
    const key = normalizeAddress(typed) ?? typed.toLowerCase().slice(0, 320);
    if (!typed || !password) return c.html(loginForm(s, 'Give an address and a password.'), 400);
    const outcome = await d.throttle.attempt(remoteAddress(c), key, () => d.authenticate(typed, password));
    if (outcome.result === 'locked' || outcome.result === 'busy') {
      return c.html(loginForm(s, 'Too many failed logins: try again later.'), 429);
    }
    if (outcome.result === 'failed') {
      d.log.info({ address: key, source: remoteAddress(c) }, 'console: login failed');
      return c.html(loginForm(s, 'Wrong address or password.'), 401);
    }
    const account = outcome.value;
    const hasFactor = await d.store.meta.factors.hasFactor(account.address);
    if (!isAdmin(account.roles) && !hasFactor) {
      const next = sessions.rotate(s, { stage: 'full', address: account.address, roles: account.roles });
      setSession(c, next);
      await audit(d, account.address, 'console.login', account.address, { factor: 'password', roles: account.roles });
      return c.redirect(homeOf(next), 303);
    }
    const stage = hasFactor ? 'second' : 'enroll';
    const next = sessions.rotate(s, { stage, address: account.address, roles: account.roles });
    setSession(c, next);
    return c.redirect(stage === 'second' ? '/console/factor' : '/console/enroll', 303);
  });

  app.post('/console/logout', async (c) => {
    const s = c.get('session')!;
    sessions.destroy(s);
    setSession(c, null);
    if (s.stage === 'full' && s.address) await audit(d, s.address, 'console.logout', s.address);
    return c.redirect('/console/login', 303);
  });

  // --- second factor -------------------------------------------------------

  const inStage = (c: Ctx, stage: Session['stage']): Session | null => {
    const s = c.get('session');
    return s && s.stage === stage && s.address ? s : null;
  };

  app.get('/console/factor', async (c) => {
    const s = inStage(c, 'second');
    if (!s) return c.redirect('/console/login', 303);
    const [keys, totp] = await Promise.all([d.store.meta.factors.listCredentials(s.address!), d.store.meta.factors.getTotp(s.address!)]);
    const parts: string[] = [`<p>${e(s.address!)}: prove it is you with your second factor.</p>`];
    if (keys.length) parts.push('<h2>Security key</h2>', webauthnForm(s, 'login', 'Use my security key'));
    if (totp) {
      parts.push(
        '<h2>Authenticator app</h2>',
        form(s, '/console/totp', '<label>6-digit code <input type="text" name="code" inputmode="numeric" autocomplete="one-time-code" required></label><button type="submit">Verify</button>'),
      );
    }
    return c.html(page('Second factor', null, parts.join('')));
  });

  app.post('/console/totp', async (c) => {
    const s = inStage(c, 'second');
    if (!s) return htmlError(c, 401, 'Log in first', 'The password step is missing or the session expired.');
    const totp = await d.store.meta.factors.getTotp(s.address!);
    const step = totp ? matchTotp(totp.secret, field(c, 'code'), d.clock.now()) : null;
    if (step !== null && (await d.store.meta.factors.useTotpStep(s.address!, step))) {
      const next = await loggedIn(c, s, 'totp');
      return c.redirect(homeOf(next), 303);
    }
    const ended = await failed(c, s, 'totp');
    return htmlError(c, 401, 'Wrong code', ended ? 'Too many wrong codes: log in again.' : 'The code is wrong, expired or was used already.');
  });

  app.post('/console/webauthn/auth-options', async (c) => {
    const s = inStage(c, 'second');
    if (!s) return c.json({ error: 'log in with your password first' }, 401);
    const keys = await d.store.meta.factors.listCredentials(s.address!);
    if (keys.length === 0) return c.json({ error: 'no security key is registered' }, 400);
    const opts = await generateAuthenticationOptions({
      rpID: d.rpId,
      allowCredentials: keys.map((k) => ({ id: k.id, transports: transports(k.transports) })),
      userVerification: 'preferred',
      timeout: 120_000,
    });
    s.challenge = opts.challenge;
    return c.json(opts);
  });

  app.post('/console/webauthn/auth-verify', async (c) => {
    const s = inStage(c, 'second');
    if (!s) return c.json({ error: 'log in with your password first' }, 401);
    const challenge = s.challenge;
    s.challenge = null; // one try per challenge
    const response = c.get('form').response as AuthenticationResponseJSON | undefined;
    const key = response && typeof response.id === 'string' ? await d.store.meta.factors.getCredential(response.id) : null;
    let ok = false;
    if (challenge && key && key.address === s.address) {
      try {
        const v = await verifyAuthenticationResponse({
          response: response!,
          expectedChallenge: challenge,
          expectedOrigin: [...d.origins()],
          expectedRPID: d.rpId,
          credential: { id: key.id, publicKey: new Uint8Array(key.publicKey), counter: key.counter, transports: transports(key.transports) },
          requireUserVerification: false,
        });
        ok = v.verified && (await d.store.meta.factors.useCredential(key.id, v.authenticationInfo.newCounter, d.clock.now()));
      } catch (err) {
        d.log.info({ err: (err as Error).message }, 'console: security key assertion refused');
      }
    }
    if (!ok) {
      const ended = await failed(c, s, 'webauthn');
      return c.json({ error: ended ? 'too many failures: log in again' : 'the security key was not accepted' }, 401);
    }
    const next = await loggedIn(c, s, 'webauthn');
    return c.json({ next: homeOf(next) });
  });

  // --- enrollment ------------------------------------------------------------

  app.get('/console/enroll', (c) => {
    const s = inStage(c, 'enroll');
    if (!s) return c.redirect('/console/login', 303);
    if (!s.codeAccepted) {
      return c.html(
        page(
          'Enroll a second factor',
          null,
          `<p>${e(s.address!)} has an administrator role and no second factor yet. Ask an operator for an enrollment code (<code>postern console enroll ${e(s.address!)}</code>); it is valid for 15 minutes, once.</p>` +
            form(s, '/console/enroll/code', '<label>Enrollment code <input type="text" name="code" autocomplete="off" required></label><button type="submit">Continue</button>'),
        ),
      );
    }
    return c.html(
      page(
        'Enroll a second factor',
        null,
        '<h2>Security key (recommended)</h2>' +
          webauthnForm(s, 'register', 'Register my security key') +
          '<h2>Authenticator app (TOTP)</h2>' +
          form(s, '/console/enroll/totp', '<button type="submit">Show a TOTP secret</button>'),
      ),
    );
  });

  app.post('/console/enroll/code', async (c) => {
    const s = inStage(c, 'enroll');
    if (!s) return htmlError(c, 401, 'Log in first', 'The password step is missing or the session expired.');
    const typed = field(c, 'code');
    if (typed && (await d.store.meta.factors.consumeEnrollmentCode(s.address!, enrollmentCodeDigest(typed), d.clock.now()))) {
      s.codeAccepted = true;
      await audit(d, s.address!, 'console.enroll_code_used', s.address!);
      return c.redirect('/console/enroll', 303);
    }
    const ended = await failed(c, s, 'enrollment code');
    return htmlError(c, 401, 'Wrong code', ended ? 'Too many wrong codes: log in again.' : 'The enrollment code is wrong, expired or was used already.');
  });

  /**
   * Who may register a factor: an administrator enrolling who entered a code, or a logged-in
   * account that typed its password again in the last REAUTH_MS (a session left open is not enough).
   */
  const enrolling = (c: Ctx): Session | null => {
    const s = c.get('session');
    if (!s?.address) return null;
    if (s.stage === 'enroll' && s.codeAccepted) return s;
    if (s.stage === 'full' && s.reauthAt !== null && d.clock.now() - s.reauthAt < REAUTH_MS) return s;
    return null;
  };
  const NOT_ENROLLING = 'enter an enrollment code first (logged in: type your password again on the account page)';

  /** After a factor was added: enrollment ends in a login; a logged-in account goes back to its page, its re-entered password spent. */
  const registered = async (c: Ctx, s: Session, factor: string): Promise<string> => {
    if (s.stage === 'full') {
      s.reauthAt = null;
      return '/console/account';
    }
    return homeOf(await loggedIn(c, s, factor));
  };

  app.post('/console/webauthn/register-options', async (c) => {
    const s = enrolling(c);
    if (!s) return c.json({ error: NOT_ENROLLING }, 401);
    const keys = await d.store.meta.factors.listCredentials(s.address!);
    const opts = await generateRegistrationOptions({
      rpName: 'postern',
      rpID: d.rpId,
      userName: s.address!,
      // A stable handle that is not the address itself.
      userID: new Uint8Array(createHash('sha256').update(`postern-console:${s.address!}`).digest().subarray(0, 16)),
      attestationType: 'none',
      excludeCredentials: keys.map((k) => ({ id: k.id, transports: transports(k.transports) })),
      authenticatorSelection: { residentKey: 'discouraged', userVerification: 'preferred' },
      timeout: 120_000,
    });
    s.challenge = opts.challenge;
    return c.json(opts);
  });

  app.post('/console/webauthn/register-verify', async (c) => {
    const s = enrolling(c);
    if (!s) return c.json({ error: NOT_ENROLLING }, 401);
    const challenge = s.challenge;
    s.challenge = null;
    const response = c.get('form').response as RegistrationResponseJSON | undefined;
    if (!challenge || !response) return c.json({ error: 'no registration in progress' }, 400);
    let id: string;
    try {
      const v = await verifyRegistrationResponse({ response, expectedChallenge: challenge, expectedOrigin: [...d.origins()], expectedRPID: d.rpId, requireUserVerification: false });
      if (!v.verified) throw new Error('not verified');
      const cred = v.registrationInfo.credential;
      await d.store.meta.factors.addCredential({ id: cred.id, address: s.address!, publicKey: cred.publicKey, counter: cred.counter, transports: cred.transports ?? [] }, d.clock.now());
      id = cred.id;
    } catch (err) {
      d.log.info({ err: (err as Error).message }, 'console: security key registration refused');
      await failed(c, s, 'webauthn registration');
      return c.json({ error: `the security key was not registered: ${(err as Error).message}` }, 400);
    }
    await audit(d, s.address!, 'console.factor_add', s.address!, { kind: 'webauthn', credential: id.slice(0, 16) });
    return c.json({ next: await registered(c, s, 'webauthn') });
  });

  app.post('/console/enroll/totp', (c) => {
    const s = enrolling(c);
    if (!s) return htmlError(c, 401, 'Log in first', `Not allowed yet: ${NOT_ENROLLING}.`);
    s.pendingTotp = new Uint8Array(randomBytes(20));
    const secret = base32(s.pendingTotp);
    return c.html(
      page(
        'Authenticator app',
        s.stage === 'full' ? s : null,
        `<p>Add this secret to your authenticator app (TOTP, SHA-1, 6 digits, 30 s), then type the code it shows.</p><p>Secret: <code id="totp-secret">${e(secret)}</code></p><p class="muted">URI: <code>${e(otpauthUri(s.address!, s.pendingTotp))}</code></p>` +
          form(s, '/console/enroll/totp-confirm', '<label>6-digit code <input type="text" name="code" inputmode="numeric" autocomplete="one-time-code" required></label><button type="submit">Confirm</button>'),
        // A logged-in account adding a factor keeps its navigation.
        s.stage === 'full' ? navFor(s) : [],
      ),
    );
  });

  app.post('/console/enroll/totp-confirm', async (c) => {
    const s = enrolling(c);
    if (!s || !s.pendingTotp) return htmlError(c, 401, 'Log in first', `Not allowed yet: ${NOT_ENROLLING}.`);
    const step = matchTotp(s.pendingTotp, field(c, 'code'), d.clock.now());
    if (step === null) {
      const ended = await failed(c, s, 'totp enrollment');
      return htmlError(c, 401, 'Wrong code', ended ? 'Too many wrong codes: log in again.' : 'That code does not match the secret; check the clock of the device.');
    }
    await d.store.meta.factors.setTotp(s.address!, s.pendingTotp, d.clock.now());
    await d.store.meta.factors.useTotpStep(s.address!, step);
    s.pendingTotp = null;
    await audit(d, s.address!, 'console.factor_add', s.address!, { kind: 'totp' });
    return c.redirect(await registered(c, s, 'totp'), 303);
  });
}
