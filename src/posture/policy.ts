/**
 * Content policy: two independent malware engines that answer, clamd's
 * signature age, the DLP rules, and no stage configured to let mail through
 * unchecked when it cannot decide (fail_open).
 */
import type { CheckResult } from './types.js';
import type { PostureContext } from './context.js';
import type { EngineHealth } from '../policy/av/engine.js';

const HOUR = 3_600_000;
const SIGNATURES_WARN = 2 * 24 * HOUR;
const SIGNATURES_FAIL = 7 * 24 * HOUR;

export async function malwareChecks(ctx: PostureContext): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const r = (id: string, grade: CheckResult['grade'], reason: string, fix = ''): void => void out.push({ id: `malware.${id}`, area: 'malware', grade, reason, fix: grade === 'pass' ? '' : fix });
  const health: EngineHealth[] = await Promise.all(
    ctx.engines.map((e) => e.health(AbortSignal.timeout(ctx.timeoutMs)).catch((err: unknown): EngineHealth => ({ engine: e.name, up: false, version: null, signaturesAt: null, detail: (err as Error).message }))),
  );
  const up = health.filter((h) => h.up);
  for (const h of health) {
    if (!h.up) r(`${h.engine}.up`, 'fail', `the ${h.engine} engine does not answer: ${h.detail ?? 'no detail'}`, h.engine === 'clamav' ? 'Start clamd (systemctl start clamav-daemon) and check [policy.malware.clamav].' : `Check [policy.malware.${h.engine}] and "postern av status".`);
    else r(`${h.engine}.up`, 'pass', `${h.engine} answers (${h.version ?? 'version unknown'})`);
  }
  const names = health.map((h) => h.engine).join(', ') || 'none';
  if (up.length >= 2) r('engines', 'pass', `${up.length} independent engines answer: ${up.map((h) => h.engine).join(', ')}`);
  else
    r(
      'engines',
      'fail',
      `${up.length} malware engine(s) answer (configured: ${names}); one engine's blind spot is then everyone's`,
      'Configure two engines: clamd ([policy.malware.clamav] socket) and the static checks or YARA rules ([policy.malware.static], [policy.malware.yara]).',
    );
  const clam = health.find((h) => h.engine === 'clamav' && h.up);
  if (clam) {
    const FRESHCLAM = 'Run freshclam (the clamav-freshclam service) so signatures update several times a day.';
    if (clam.signaturesAt === null) r('clamav.signatures', 'warn', `clamd does not say when its signatures were built (${clam.version ?? '?'})`, FRESHCLAM);
    else {
      const age = ctx.now - clam.signaturesAt;
      const text = `clamd's signatures are ${Math.floor(age / HOUR)} hours old (${new Date(clam.signaturesAt).toISOString()})`;
      r('clamav.signatures', age > SIGNATURES_FAIL ? 'fail' : age > SIGNATURES_WARN ? 'warn' : 'pass', text, FRESHCLAM);
    }
  }
  return out;
}

export async function dlpChecks(ctx: PostureContext): Promise<CheckResult[]> {
  const d = ctx.config.policy.dlp;
  const base = { id: 'dlp.rules', area: 'dlp' };
  if (!d.enabled || d.rules === undefined) return [{ ...base, grade: 'warn', reason: 'DLP is off: nothing stops confidential data (card numbers, secrets, labelled mail) from leaving', fix: 'Set [policy.dlp] rules = "dlp-rules.toml" ("postern init" writes one to start from).' }];
  try {
    const n = await ctx.loadDlpRules(d.rules);
    if (n === 0) return [{ ...base, grade: 'warn', reason: `${d.rules} holds no rules`, fix: 'Add rules to the DLP rules file ("postern dlp test" shows what a message matches).' }];
    return [{ ...base, grade: 'pass', reason: `${n} rule(s) loaded from ${d.rules}`, fix: '' }];
  } catch (e) {
    return [{ ...base, grade: 'fail', reason: `the DLP rules do not load, so the stage fails closed on every message: ${(e as Error).message.split('\n')[0]}`, fix: `Fix ${d.rules} ("postern dlp test" names each error).` }];
  }
}

/** Every stage with its fail_open switch, as configured. */
export function stageSwitches(ctx: PostureContext): { stage: string; on: boolean; failOpen: boolean }[] {
  const p = ctx.config.policy;
  return [
    { stage: 'auth', on: p.auth.enabled, failOpen: p.auth.fail_open },
    { stage: 'spoof', on: p.spoof.enabled, failOpen: p.spoof.fail_open },
    { stage: 'dmarc_reports', on: p.dmarc_reports.enabled, failOpen: p.dmarc_reports.fail_open },
    { stage: 'attachments', on: p.attachments.enabled, failOpen: p.attachments.fail_open },
    { stage: 'malware', on: p.malware.enabled, failOpen: p.malware.fail_open },
    { stage: 'dlp', on: p.dlp.enabled, failOpen: p.dlp.fail_open },
    { stage: 'smime', on: p.smime.enabled, failOpen: p.smime.fail_open },
  ];
}

export function failOpenChecks(ctx: PostureContext): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const open = stageSwitches(ctx).filter((s) => s.failOpen);
  for (const s of open) {
    out.push({
      id: `policy.${s.stage}.fail-open`,
      area: 'policy',
      grade: s.on ? 'fail' : 'warn',
      reason: `[policy.${s.stage}] fail_open = true: when the stage errs or runs out of time, mail passes unchecked${s.on ? '' : ' (the stage is off now)'}`,
      fix: `Set [policy.${s.stage}] fail_open = false (the default): the mail waits (451) instead.`,
    });
  }
  if (!open.length) out.push({ id: 'policy.fail-closed', area: 'policy', grade: 'pass', reason: 'every stage fails closed', fix: '' });
  if (ctx.config.policy.auth.temperror === 'accept')
    out.push({ id: 'policy.auth.temperror', area: 'policy', grade: 'warn', reason: '[policy.auth] temperror = "accept": mail whose SPF/DKIM/DMARC could not be checked (a DNS failure) goes in unchecked', fix: 'Set [policy.auth] temperror = "tempfail": the sender retries.' });
  return Promise.resolve(out);
}
