/**
 * The event registry: every kind of event postern records, the property of
 * mail it measures (C confidentiality, I integrity, A availability), what it
 * means, and the bounded labels it carries in its data (never an address or a
 * subject line, so each can become a metric label). The events table is the
 * one source of every figure; reports, metrics and alerts read kinds from
 * here. A test checks that every kind the code records is listed.
 */
export type Property = 'C' | 'I' | 'A';

export interface EventKindSpec {
  readonly kind: string;
  readonly property: Property;
  readonly what: string;
  /** Data fields with a small, fixed set of values. */
  readonly labels: readonly string[];
}

const k = (kind: string, property: Property, what: string, labels: readonly string[] = []): EventKindSpec => ({ kind, property, what, labels });

export const EVENT_KINDS: readonly EventKindSpec[] = [
  // Availability
  k('server.start', 'A', 'a node started'),
  k('server.stop', 'A', 'a node stopped cleanly'),
  k('server.unclean_stop', 'A', 'found at start: the previous run of this node did not stop'),
  k('server.heartbeat', 'A', 'a node is alive (every heartbeat_interval)'),
  // cause: unclean_stop | stopped (measured at the next start) | probe (measured by the synthetic probe)
  k('availability.downtime', 'A', 'a node was down or not serving', ['cause', 'planned']),
  k('maintenance.start', 'A', 'a maintenance window was opened'),
  k('maintenance.end', 'A', 'a maintenance window was closed'),
  k('storage.full', 'A', 'mail refused (4xx) because the disk or quota is full'),
  k('delivery.error', 'A', 'a delivery step failed unexpectedly and is left to a retry'),
  k('delivery.dns_failure', 'A', 'a delivery was deferred because DNS failed'),
  k('delivery.delay_warning', 'A', 'a sender was warned that a recipient is still deferred after delay_warning (one per recipient)'),
  k('policy.stage_failed', 'A', 'a policy stage threw or ran out of time', ['stage', 'cause', 'action']),
  k('process.unhandled_rejection', 'A', 'a promise failed that nothing handled'),
  k('events.dropped', 'A', 'events the store could not take were dropped from the outbox'),
  // Synthetic probe (src/probe)
  k('probe.failure', 'A', 'a probe round failed (SMTP → queue → mailbox → IMAP)', ['stage']),
  k('probe.outage_started', 'A', 'the first failed probe round after a success: an outage began', ['stage']),
  // Integrity
  k('integrity.corrected', 'I', 'a flipped bit in a stored block was repaired', ['area']),
  k('integrity.uncorrectable', 'I', 'a stored blob is damaged beyond repair'),
  k('integrity.missing', 'I', 'a referenced blob is missing'),
  k('integrity.metadata_damaged', 'I', 'the metadata database failed a check'),
  k('integrity.orphans', 'I', 'blobs no message references'),
  k('integrity.scrub_completed', 'I', 'a scrub read every blob', ['clean']),
  k('integrity.backup_completed', 'I', 'a backup was written', ['complete']),
  k('integrity.backup_failed', 'I', 'a backup failed'),
  k('integrity.backup_verified', 'I', 'a backup was verified block by block'),
  k('integrity.backup_verify_failed', 'I', 'a backup failed its verification'),
  k('integrity.restore_completed', 'I', 'a backup was restored'),
  k('integrity.error', 'I', 'an integrity task failed to run'),
  k('store.gc', 'I', 'garbage collection ran (blobs, cache rows and events removed)'),
  // Attachment policy
  k('attachment.blocked', 'I', 'an attachment refused or held by the attachment policy (by extension, true type or an unreadable archive)', ['rule', 'direction', 'action']),
  k('spoof.detected', 'I', 'a forged or spoofed message', ['detector', 'origin', 'result', 'action']),
  k('auth.result', 'I', 'sender authentication of an inbound message', ['spf', 'dkim', 'dmarc', 'arc', 'action']),
  k('dmarc.report_received', 'I', 'a DMARC aggregate report mailed to us', ['result']),
  k('quarantine.released', 'I', 'held mail released (data: actor)'),
  k('quarantine.deleted', 'I', 'held mail deleted (data: actor)'),
  // Malware scanning (policy/av): direction is inbound, outbound, internal, or stored (a rescan)
  k('malware.detected', 'I', 'a malware engine found something in a message (data: signature, part, stage)', ['engine', 'direction', 'action']),
  k('engine.down', 'I', 'a malware engine stopped answering (once per change; data: detail)', ['engine']),
  k('engine.up', 'I', 'a malware engine answers again after engine.down', ['engine']),
  // Confidentiality
  k('tls.success', 'C', 'an outbound connection used TLS (subject: the destination domain)', ['policyType', 'protocol', 'verified']),
  k('tls.plaintext', 'C', 'an outbound connection without TLS, which its policy allowed', ['policyType']),
  k('tls.failure', 'C', 'an outbound connection failed its TLS policy', ['policyType', 'resultType', 'enforced']),
  // TLS-RPT reports mailed or posted (delivery/outbound/tlsrpt-send.ts): subject the recipient domain, data.day the day reported
  k('tlsrpt.sent', 'C', 'a TLS-RPT report went to at least one rua destination (data: day, targets, failed)'),
  k('tlsrpt.skipped', 'C', 'no TLS-RPT report sent: the domain publishes no usable _smtp._tls record (data: day, reason)'),
  k('tlsrpt.failed', 'C', 'a TLS-RPT report reached none of its destinations; tried again later (data: day, reason)'),
  k('smtp.session', 'C', 'an SMTP session ended (tls: the version it reached, or none)', ['listener', 'tls']),
  k('smtp.message', 'C', 'a message was accepted over SMTP', ['listener', 'tls']),
  k('smtp.early_talker', 'I', 'a client talked before the mx greeting and was refused with 554 5.5.1 ([smtp] greet_pause_ms)', ['listener']),
  k('relay.message', 'C', 'a remote server accepted a message for one recipient', ['tls', 'verified']),
  k('auth.plaintext_refused', 'C', 'credentials offered before TLS were refused', ['protocol']),
  k('sieve.script', 'I', 'a user changed their Sieve scripts over ManageSieve (subject: the account; data: name, size, from)', ['action']),
  // Data-loss prevention (policy/dlp): data never carries a matched value, only addresses, domains and counts
  k('dlp.message', 'C', 'a message classified by the DLP rules (result: confidential, clean or unscannable; action: the strictest taken)', ['direction', 'result', 'action']),
  k('dlp.match', 'C', 'a DLP rule matched a message (group: the sender\'s first group; destination: the widest recipient; data: sender, groups, domains, confidence, count)', ['rule', 'group', 'direction', 'destination', 'action']),
  k('dlp.encrypt', 'C', 'a DLP rule asked to encrypt a message (result: encrypted, already encrypted, or the rule\'s fallback fallback_hold / fallback_reject when a recipient has no certificate; data: rules, recipients without one)', ['direction', 'result']),
  k('policy.encrypt_failed', 'C', 'a message a policy asked to encrypt could not be encrypted: it was refused with 451 or waits, never sent in clear (data: phase, reason)', ['phase']),
  k('dlp.flow', 'C', 'confidential data sent to an outside domain: one per rule, sender group and partner or external domain (data: domain)', ['rule', 'group', 'direction', 'destination', 'action']),
  // S/MIME signatures on received mail (policy/smime): result valid, tampered, invalid, untrusted or malformed
  k('smime.signature', 'I', 'a signed message was checked (result: the verdict that stands; a valid signer that is not the From address is untrusted)', ['result', 'direction']),
  k('smime.message', 'C', 'a message the smime stage looked at (signed, encrypted: true or false)', ['signed', 'encrypted', 'direction']),
  // Encryption at rest (delivery/local, [encryption_at_rest]): one per covered recipient
  k('smime.at_rest', 'C', 'a message for a covered account at local delivery (result: encrypted, already (stored as sent), no_certificate (per missing_certificate: delivered in clear or deferred), failed (deferred))', ['result']),
  // Sieve filters at local delivery (delivery/sieve.ts)
  k('sieve.error', 'A', 'an account\'s Sieve script failed, passed a limit or could not carry out an action; the message was kept'),
  k('sieve.action', 'I', 'a Sieve script discarded, redirected, refused (reject) or answered (vacation) a message', ['action']),
  // Alerts (src/alerts): the checks that raise alertable events, and the alerts sent
  k('tls.cert_expiring', 'C', 'the [tls] certificate expires within alerts.cert_warn_days (data: days)'),
  k('queue.old', 'A', 'the oldest waiting queue message is older than alerts.queue_age_warn (data: age_s)'),
  // Posture (src/posture): the last `postern audit`, for the console; a failed check alerts
  k('posture.audited', 'C', '`postern audit` graded the installation (data: pass, warn, fail counts and the findings)'),
  k('posture.failed', 'C', 'a `postern audit` check failed (data: fail, checks, first)'),
  k('alert.sent', 'A', 'an alert went out by mail (queued) or webhook (accepted)', ['channel', 'kind', 'severity', 'summary']),
  k('alert.webhook_failed', 'A', 'a webhook alert was given up after its retries', ['cause', 'kind']),
  k('alert.mail_failed', 'A', 'an alert mail could not be queued', ['kind']),
];

const BY_KIND = new Map(EVENT_KINDS.map((s) => [s.kind, s]));

export function eventSpec(kind: string): EventKindSpec | undefined {
  return BY_KIND.get(kind);
}

/** The kinds that measure one property. */
export function kindsOf(property: Property): string[] {
  return EVENT_KINDS.filter((s) => s.property === property).map((s) => s.kind);
}
