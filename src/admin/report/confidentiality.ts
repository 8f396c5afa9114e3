/**
 * Confidentiality figures: how much mail travelled encrypted, in and out,
 * where outbound TLS policy failed, plaintext logins refused, DLP matches and
 * S/MIME use. Reads only the events table.
 */
import type { EventRepo, EventTally } from '../../store/types.js';
import { counts, figure, label, share, sum, tallyBoth, yes } from './figure.js';
import type { Confidentiality, Span, TlsBreakdown } from './types.js';

const isTls = (tls: string | null | undefined): boolean => tls !== null && tls !== undefined && tls !== 'none' && tls !== '';
const SUBMISSION = new Set(['submission', 'submissions']);

type Group = (listener: string | null) => boolean;
const inbound: Group = (l) => l === 'mx';
const submission: Group = (l) => l !== null && SUBMISSION.has(l);

function ofGroup(rows: readonly EventTally[], g: Group): EventTally[] {
  return rows.filter((r) => g(r.labels.listener ?? null));
}

const tlsCount = (rows: readonly EventTally[]): number => sum(rows.filter((r) => isTls(r.labels.tls)));

function breakdown(g: Group, sessions: readonly EventTally[], messages: readonly EventTally[], prevSessions: readonly EventTally[], prevMessages: readonly EventTally[]): TlsBreakdown {
  const [s, m, ps, pm] = [ofGroup(sessions, g), ofGroup(messages, g), ofGroup(prevSessions, g), ofGroup(prevMessages, g)];
  const byTls = new Map<string, { tls: string; sessions: number; messages: number }>();
  const row = (tls: string) => byTls.get(tls) ?? byTls.set(tls, { tls, sessions: 0, messages: 0 }).get(tls)!;
  for (const r of s) row(label(r.labels.tls)).sessions += r.count;
  for (const r of m) row(label(r.labels.tls)).messages += r.count;
  return {
    sessions: figure(sum(s), sum(ps)),
    messages: figure(sum(m), sum(pm)),
    tlsSharePct: figure(share(tlsCount(m), sum(m)), share(tlsCount(pm), sum(pm))),
    byTls: [...byTls.values()].sort((a, b) => b.messages - a.messages || b.sessions - a.sessions || a.tls.localeCompare(b.tls)),
  };
}

/** SMTP messages (inbound and submission) of the window and the previous one, for the S/MIME shares. */
export async function confidentiality(events: EventRepo, w: Span, p: Span, smtpMessages: readonly EventTally[]): Promise<Confidentiality> {
  const [[sessions, prevSessions], prevMessages, [relay, prevRelay], [fail, prevFail], domains, [plain, prevPlain], [dlp, prevDlp], [smime, prevSmime]] =
    await Promise.all([
      tallyBoth(events, 'smtp.session', ['listener', 'tls'], w, p),
      events.tally('smtp.message', p.since, ['listener', 'tls'], p.until),
      tallyBoth(events, 'relay.message', ['tls', 'verified'], w, p),
      tallyBoth(events, 'tls.failure', ['policyType', 'resultType'], w, p),
      events.topSubjects('tls.failure', w.since, w.until, 20),
      tallyBoth(events, 'auth.plaintext_refused', ['protocol'], w, p),
      tallyBoth(events, 'dlp.match', ['rule', 'group', 'direction', 'action'], w, p),
      tallyBoth(events, 'smime.message', ['signed', 'encrypted'], w, p),
    ]);
  const accepted = (rows: readonly EventTally[]) => sum(ofGroup(rows, (l) => inbound(l) || submission(l)));
  const signed = (rows: readonly EventTally[]) => sum(rows.filter((r) => yes(r.labels.signed)));
  const encrypted = (rows: readonly EventTally[]) => sum(rows.filter((r) => yes(r.labels.encrypted)));
  return {
    inbound: breakdown(inbound, sessions, smtpMessages, prevSessions, prevMessages),
    submission: breakdown(submission, sessions, smtpMessages, prevSessions, prevMessages),
    outbound: {
      messages: figure(sum(relay), sum(prevRelay)),
      tlsSharePct: figure(share(tlsCount(relay), sum(relay)), share(tlsCount(prevRelay), sum(prevRelay))),
      byTls: counts(relay),
    },
    tlsFailures: { total: figure(sum(fail), sum(prevFail)), byDomain: domains.map((d) => ({ domain: d.subject, count: d.count })), byPolicy: counts(fail) },
    plaintextAuthRefused: { total: figure(sum(plain), sum(prevPlain)), byProtocol: counts(plain) },
    dlp: { total: figure(sum(dlp), sum(prevDlp)), byRule: counts(dlp) },
    smime: {
      signed: figure(signed(smime), signed(prevSmime)),
      encrypted: figure(encrypted(smime), encrypted(prevSmime)),
      signedPct: figure(share(signed(smime), accepted(smtpMessages)), share(signed(prevSmime), accepted(prevMessages))),
      encryptedPct: figure(share(encrypted(smime), accepted(smtpMessages)), share(encrypted(prevSmime), accepted(prevMessages))),
    },
  };
}
