/**
 * Sender authentication of one inbound message: SPF (MAIL FROM and HELO),
 * DKIM, ARC and DMARC, through mailauth, on the message with forged
 * Authentication-Results removed. The outcome is plain data; a DNS failure
 * is a temperror result and a malformed message a result too, never a throw.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { arc, dkimVerify, spf } from 'mailauth';
import type { ARCData, ARCResult, DKIMVerifyResult, DNSResolver, SPFResult } from 'mailauth';
import type { DnsResolver } from '../../net/dns/types.js';
import { aligned, normalizeDomain } from './alignment.js';
import { DEFAULT_MAX_LOOKUPS, mailauthResolver } from './resolver.js';
import { discoverDmarc, type DmarcRecord } from './dmarc-record.js';
import { arcOutcome, noArc } from './arc-outcome.js';
import { stripForgedAuthResults } from './strip.js';
import type { AuthInput, AuthOutcome, DkimResult, DkimSignatureOutcome, DmarcOutcome, SpfOutcome, SpfResult } from './types.js';
import { authResultsHeader } from './header.js';
import { oneLine } from './text.js';

export interface VerifyOptions {
  /** DNS lookups one message may cause (default 50). */
  readonly maxLookups?: number;
  /** Smallest RSA key accepted for DKIM/ARC (mailauth's default 1024). */
  readonly minBitLength?: number;
  /** Verification time for DKIM x= (tests); default now. */
  readonly now?: () => number;
}

const SPF_RESULTS: readonly SpfResult[] = ['pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror'];
const DKIM_RESULTS: readonly DkimResult[] = ['pass', 'fail', 'neutral', 'none', 'policy', 'temperror', 'permerror'];
/** Signatures listed in the outcome and the header; all count for DMARC, the rest are not listed. */
const MAX_LISTED_SIGNATURES = 16;

export async function verifySender(input: AuthInput, resolver: DnsResolver, opts: VerifyOptions = {}): Promise<AuthOutcome> {
  try {
    return await verify(input, resolver, opts);
  } catch (err) {
    // Nothing above should throw; if it does, the message gets no pass it has not earned.
    const spfOutcome: SpfOutcome = { result: 'temperror', domain: '', helo: 'temperror', heloDomain: null, comment: errorText(err) };
    return failedMessage(input, spfOutcome, 0, 0, `verification failed: ${errorText(err)}`);
  }
}

async function verify(input: AuthInput, resolver: DnsResolver, opts: VerifyOptions): Promise<AuthOutcome> {
  const stripped = stripForgedAuthResults(input.raw, input.authservId);
  const tempNames = new Set<string>();
  let lookups = 0;
  const base = mailauthResolver(resolver, {
    maxLookups: opts.maxLookups ?? DEFAULT_MAX_LOOKUPS,
    onTempError: (name) => tempNames.add(normalizeDomain(name)),
  });
  const dns = ((name: string, type: string) => {
    lookups += 1;
    return base(name, type);
  }) as DNSResolver;

  // SPF and DKIM need nothing from each other: their lookups go out together.
  const spfPromise = checkSpf(input, dns);
  if (stripped.truncated) return failedMessage(input, await spfPromise, stripped.removed, lookups, 'header section over 1 MiB');
  const dkimPromise = dkimVerify(Buffer.from(stripped.raw.buffer, stripped.raw.byteOffset, stripped.raw.byteLength), {
    resolver: dns,
    sender: input.sender || undefined,
    minBitLength: opts.minBitLength,
    curTime: opts.now ? new Date(opts.now()) : undefined,
  }).then(
    (r): { ok: DKIMVerifyResult } | { err: unknown } => ({ ok: r }),
    (err: unknown) => ({ err }),
  );
  const [spfOutcome, dkimSettled] = await Promise.all([spfPromise, dkimPromise]);
  const fromLimit = (why: string): AuthOutcome => failedMessage(input, spfOutcome, stripped.removed, lookups, why);
  if ('err' in dkimSettled) return fromLimit(`message could not be verified: ${errorText(dkimSettled.err)}`);
  const dkimResult = dkimSettled.ok;

  const fromAddresses = (dkimResult.headerFrom ?? []).filter((a): a is string => typeof a === 'string');
  const fromDomains = [...new Set(fromAddresses.map(domainOf).filter((d) => d.length > 0))];
  const fromDomain = fromDomains.length === 1 ? (fromDomains[0] ?? '') : '';

  // DMARC discovery and the ARC chain both need only the From domain and the DKIM parse: together too.
  const arcPromise = arc(arcData(dkimResult), { resolver: dns, minBitLength: opts.minBitLength }).then(
    (r): ARCResult | null => r,
    () => null,
  );
  let record: DmarcRecord | null = null;
  let dmarcState: { result: 'none' | 'temperror' | 'permerror' | 'found'; comment: string };
  if (fromDomains.length !== 1) {
    dmarcState = { result: 'permerror', comment: fromDomains.length === 0 ? 'no From domain' : 'From with several domains' };
  } else {
    const found = await discoverDmarc(fromDomain, dns);
    if (found.status === 'found') {
      record = found.record;
      dmarcState = { result: 'found', comment: '' };
    } else dmarcState = { result: found.status, comment: found.why };
  }

  const adkim = record?.adkim ?? 'r';
  const aspf = record?.aspf ?? 'r';
  const allDkim = dkimOutcomes(dkimResult, fromDomain, adkim);
  const dkim = allDkim.slice(0, MAX_LISTED_SIGNATURES);
  // A signature that leaves part of the body unsigned (l=) does not vouch for what a reader sees (RFC 6376 §8.2).
  const dkimAligned = allDkim.some((s) => s.result === 'pass' && s.aligned && s.unsignedBodyBytes === 0);
  const spfAligned = spfOutcome.result === 'pass' && aligned(fromDomain, spfOutcome.domain, aspf);

  const arcResult = await arcPromise;
  const arcOut = arcResult ? arcOutcome(arcResult, fromDomain, tempNames) : noArc('ARC could not be verified');

  const dmarcOut: DmarcOutcome = {
    result: dmarcState.result === 'found' ? (dkimAligned || spfAligned ? 'pass' : 'fail') : dmarcState.result,
    policy: record?.policy ?? null,
    domain: fromDomain,
    alignment: { spf: spfAligned, dkim: dkimAligned, aspf, adkim },
    pct: record?.pct ?? 100,
    sample: sampleOf(dkimResult, stripped.raw),
    comment: dmarcState.comment,
  };
  const header = authResultsHeader(input.authservId, { spf: spfOutcome, dkim, dmarc: dmarcOut, arc: arcOut, record });
  return { spf: spfOutcome, dkim, dmarc: dmarcOut, arc: arcOut, header, strippedAuthResults: stripped.removed, lookups };
}

async function checkSpf(input: AuthInput, dns: DNSResolver): Promise<SpfOutcome> {
  const heloName = heloDomain(input.helo);
  // mailauth expands %{h} from the HELO name as given, address literal or not.
  const mailFrom = await runSpf({ sender: input.sender || undefined, ip: input.ip, helo: heloForMacro(input.helo), mta: input.mta, resolver: dns });
  // For the null sender the MAIL FROM check already is the HELO check (RFC 7208 §2.4).
  const helo =
    heloName === null
      ? null
      : input.sender === ''
        ? mailFrom
        : await runSpf({ sender: `postmaster@${heloName}`, ip: input.ip, helo: heloName, mta: input.mta, resolver: dns });
  return {
    result: mailFrom.result,
    domain: mailFrom.domain,
    helo: helo?.result ?? 'none',
    heloDomain: heloName,
    comment: mailFrom.comment,
  };
}

async function runSpf(opts: { sender?: string; ip: string; helo?: string; mta: string; resolver: DNSResolver }): Promise<{ result: SpfResult; domain: string; comment: string }> {
  if (!opts.sender && !opts.helo) return { result: 'none', domain: '', comment: 'no MAIL FROM and no HELO name' };
  try {
    const r: SPFResult = await spf(opts);
    return { result: asSpfResult(r.status.result), domain: normalizeDomain(r.domain ?? ''), comment: oneLine(r.status.comment ?? '') };
  } catch (err) {
    return { result: 'temperror', domain: '', comment: errorText(err) };
  }
}

function heloForMacro(helo: string | null): string | undefined {
  if (helo === null || helo.length === 0 || helo.length > 255) return undefined;
  // An address given bare is written as a literal, as mailauth's authenticate() does.
  return isIP(helo) !== 0 ? `[${helo}]` : helo;
}

/** A HELO name SPF can check: a domain, not an address literal. */
function heloDomain(helo: string | null): string | null {
  if (helo === null) return null;
  const h = normalizeDomain(helo);
  if (h.length === 0 || h.length > 253 || h.startsWith('[') || isIP(h) !== 0 || !h.includes('.')) return null;
  return h;
}

function dkimOutcomes(r: DKIMVerifyResult, fromDomain: string, adkim: 'r' | 's'): DkimSignatureOutcome[] {
  // mailauth lists an unsigned message as one "none" entry without a domain: that is no signature.
  const signatures = (r.results ?? []).filter((s) => !(s.status?.result === 'none' && !s.signingDomain));
  return signatures.map((s) => {
    const domain = normalizeDomain(s.signingDomain ?? '');
    let result = asDkimResult(s.status?.result);
    // A body hash mismatch is a failed signature (RFC 6376 §6.1.3), which mailauth reports as neutral.
    if (result === 'neutral' && s.status?.comment === 'body hash did not verify') result = 'fail';
    return {
      result,
      domain,
      selector: String(s.selector ?? ''),
      aligned: fromDomain !== '' && aligned(fromDomain, domain, adkim),
      unsignedBodyBytes: typeof s.status?.underSized === 'number' && s.status.underSized > 0 ? s.status.underSized : 0,
      info: oneLine(s.info ?? '').replace(/^dkim=[a-z]+/, `dkim=${result}`),
    };
  });
}

function arcData(r: DKIMVerifyResult): ARCData {
  const data = (r as { arc?: { chain?: unknown; lastEntry?: unknown; error?: unknown } }).arc;
  return { chain: Array.isArray(data?.chain) ? data.chain : [], lastEntry: data?.lastEntry, error: data?.error } as ARCData;
}

/** 0..99, the same for every copy of a message: pct sampling must not change on a retry. */
function sampleOf(r: DKIMVerifyResult, raw: Uint8Array): number {
  const parsed = (r as { headers?: { parsed?: { key: string; line: unknown }[] } }).headers?.parsed ?? [];
  const mid = parsed.find((h) => h.key === 'message-id');
  const h = createHash('sha256');
  if (mid) h.update(String(mid.line).slice(0, 1000));
  else h.update(raw);
  return h.digest().readUInt32BE(0) % 100;
}

function failedMessage(input: AuthInput, spfOutcome: SpfOutcome, removed: number, lookups: number, why: string): AuthOutcome {
  // Fail closed: a message postern cannot verify must not escape its sender's DMARC policy.
  const dmarcOut: DmarcOutcome = {
    result: 'temperror',
    policy: null,
    domain: '',
    alignment: { spf: false, dkim: false, aspf: 'r', adkim: 'r' },
    pct: 100,
    sample: 0,
    comment: why,
  };
  const arcOut = noArc(why);
  const header = authResultsHeader(input.authservId, { spf: spfOutcome, dkim: [], dmarc: dmarcOut, arc: arcOut, record: null });
  return { spf: spfOutcome, dkim: [], dmarc: dmarcOut, arc: arcOut, header, strippedAuthResults: removed, lookups };
}

function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? normalizeDomain(address) : normalizeDomain(address.slice(at + 1));
}

function asSpfResult(r: string | undefined): SpfResult {
  if (r === 'temperr') return 'temperror';
  return SPF_RESULTS.find((x) => x === r) ?? 'permerror';
}

function asDkimResult(r: string | undefined): DkimResult {
  if (r === 'temperr') return 'temperror';
  return DKIM_RESULTS.find((x) => x === r) ?? 'neutral';
}

function errorText(err: unknown): string {
  return oneLine(err instanceof Error ? err.message : String(err));
}
