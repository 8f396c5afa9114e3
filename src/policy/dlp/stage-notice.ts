/**
 * The notices the `dlp` stage asks the pipeline to send: to the sender and/or
 * the managers of the sender's groups, as the matched rules say. Short and
 * plain: which rules, what happened to the message, masked samples only
 * (never a value in clear, never the content). Only for our own senders: the
 * pipeline's notifier also refuses any address outside our domains.
 */
import type { Notice } from '../../core/verdict.js';
import type { VerdictInput } from './stage-verdict.js';
import type { DlpAction, RuleMatch } from './types.js';

const MAX_RECIPIENTS_SHOWN = 10;

function outcome(i: VerdictInput, actions: readonly DlpAction[]): { subject: string; what: string } {
  const top = actions[0];
  const e = i.encryption;
  // A fallback (the stage put hold or reject before encrypt) says why encryption could not be done.
  const why = actions.includes('encrypt') && e?.kind === 'unavailable' ? ` It had to be sent encrypted, but ${e.why}.` : '';
  if (top === 'reject' && i.phase === 'inline')
    return { subject: 'Your message was refused: it contains confidential data', what: `was refused and not sent.${why} Remove the confidential data, or ask your administrator if it must be sent.` };
  if (top === 'reject' || top === 'hold')
    return { subject: 'Your message is held: it contains confidential data', what: `is held for review and has not been sent yet.${why} An administrator will release or delete it.` };
  if (top === 'encrypt' && e?.kind === 'certificates')
    return { subject: 'Your message was sent encrypted', what: "was encrypted (S/MIME) to every recipient's certificate before it was sent: only the recipients can read it." };
  if (top === 'encrypt' && e?.kind === 'already') return { subject: 'Your message contains confidential data', what: 'was sent as it was: it is already encrypted.' };
  if (actions.includes('require_tls'))
    return { subject: 'Your message is sent only over verified TLS', what: 'is delivered only over an encrypted connection to a server with a verified certificate. If the recipient\'s server cannot offer one, the message waits and then comes back to you.' };
  return { subject: 'Your message contains confidential data', what: actions.includes('tag') ? 'was sent, marked as confidential.' : 'was sent; the match was recorded.' };
}

function findings(matches: readonly RuleMatch[]): string {
  const lines: string[] = [];
  for (const m of matches) {
    lines.push(`  Rule ${m.rule}:`);
    for (const d of m.detectors) {
      const samples = d.samples.map((s) => `${s.masked} (${s.source})`).join('; ');
      lines.push(`    ${d.detector}: ${d.count} ${d.count === 1 ? 'value' : 'values'}${samples ? `, e.g. ${samples}` : ''}`);
    }
  }
  return lines.join('\n');
}

/** The notices of a classified message (none when the sender is not one of ours or no rule asks). */
export function noticesFor(i: VerdictInput, matches: readonly RuleMatch[], actions: readonly DlpAction[]): Notice[] {
  const sender = i.attribution.sender;
  if (!sender) return [];
  const byName = new Map(i.rules.rules.map((r) => [r.name, r]));
  const toSender = matches.filter((m) => byName.get(m.rule)?.notify.includes('sender'));
  const toManager = matches.filter((m) => byName.get(m.rule)?.notify.includes('manager'));
  const shown = i.recipients.slice(0, MAX_RECIPIENTS_SHOWN).join(', ') + (i.recipients.length > MAX_RECIPIENTS_SHOWN ? `, and ${i.recipients.length - MAX_RECIPIENTS_SHOWN} more` : '');
  const o = outcome(i, actions);
  const rulesOf = (ms: readonly RuleMatch[]) => ms.map((m) => m.rule).join(', ');
  const notices: Notice[] = [];
  if (toSender.length > 0) {
    notices.push({
      to: sender,
      subject: o.subject,
      text: `Your message to ${shown} (queue id ${i.queueId}) ${o.what}\n\nIt matched the data-loss prevention ${toSender.length === 1 ? 'rule' : 'rules'} ${rulesOf(toSender)}. What was found (masked):\n${findings(toSender)}\n\nThis notice was sent automatically by the mail server.\n`,
    });
  }
  if (toManager.length > 0) {
    const managers = new Set<string>();
    for (const g of i.attribution.groups) {
      const m = i.rules.groups[g]?.manager;
      if (m && m.toLowerCase() !== sender) managers.add(m.toLowerCase());
    }
    const groups = i.attribution.groups.filter((g) => i.rules.groups[g]?.manager).join(', ');
    for (const to of managers) {
      notices.push({
        to,
        subject: `Confidential data in a message from ${sender}`,
        text: `A message from ${sender} (group ${groups}) to ${shown} (queue id ${i.queueId}) ${o.what.replace(/\byou\b/g, 'the sender')}\n\nIt matched the data-loss prevention ${toManager.length === 1 ? 'rule' : 'rules'} ${rulesOf(toManager)}. What was found (masked):\n${findings(toManager)}\n\nYou receive this as the manager of the group named in the rules file.\n`,
      });
    }
  }
  return notices;
}
