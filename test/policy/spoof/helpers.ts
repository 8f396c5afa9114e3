/** Builders shared by the spoof tests. */
import { detect, extractFacts } from '../../../src/policy/spoof/index.js';
import type { DetectInput, DetectorName, Finding, SpoofContext } from '../../../src/policy/spoof/index.js';

/** A message from header lines and a body, CRLF line ends. */
export function message(headers: readonly string[], body = 'Hello.\r\n'): Uint8Array {
  return Buffer.from(`${headers.join('\r\n')}\r\n\r\n${body}`, 'utf8');
}

export function basicHeaders(from: string, extra: readonly string[] = []): string[] {
  return [`From: ${from}`, 'To: staff@example.test', 'Subject: hello', 'Date: Thu, 03 Dec 2026 10:00:00 +0000', 'Message-ID: <1@mail.test>', ...extra];
}

export const CTX: SpoofContext = {
  localDomains: ['example.test', 'corp.example.test'],
  partnerDomains: ['partnerbank.test'],
  people: [
    { displayName: 'Jane Doe', address: 'jane.doe@example.test' },
    { displayName: 'Müller, Jürgen', address: 'j.mueller@example.test' },
  ],
  internalNetworks: ['10.0.0.0/8', 'fd00::/8'],
};

/** A neutral context: none of the corpus domains is ours. */
export const NEUTRAL: SpoofContext = { localDomains: ['postern.invalid'], partnerDomains: ['partner.invalid'], people: [{ displayName: 'Jane Doe', address: 'jane@postern.invalid' }], internalNetworks: ['10.0.0.0/8'] };

export function inbound(envelopeSender: string, extra: Partial<DetectInput> = {}): DetectInput {
  return { envelopeSender, helo: 'mx.sender.test', clientAddress: '203.0.113.7', listener: 'mx', authUser: null, ...extra };
}

export function run(raw: Uint8Array, input: DetectInput, ctx: SpoofContext = CTX, only?: DetectorName): Finding[] {
  return detect(extractFacts(raw), input, ctx, only ? [only] : undefined);
}

export function results(findings: readonly Finding[]): string[] {
  return findings.map((f) => `${f.detector}=${f.result}`);
}
