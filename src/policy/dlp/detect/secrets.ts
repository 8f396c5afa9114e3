/**
 * Secrets that must not leave by mail: PEM/OpenSSH/PGP private key blocks
 * (`private_key`), cloud and service credentials with a recognisable shape
 * (`cloud_key`: AWS access key ids and secret keys, Google API keys, GitHub,
 * Slack and Stripe tokens), JSON Web Tokens (`jwt`) and "password: value"
 * assignments (`password`). Every pattern has a literal anchor and bounded
 * repetitions, so each scan is linear in the text.
 */
import type { Confidence, Hit } from '../types.js';
import { HitList, allSame } from './shared.js';

// ---------------------------------------------------------------- private keys

const PEM = /-----(BEGIN|END) ((?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?)-----/g;
/** A key block longer than this is not followed to its END line (an RSA-16384 key is about 12 KB). */
const MAX_PEM = 64 * 1024;

/** BEGIN…END blocks (high); a BEGIN line whose END is missing or too far is still a key, cut off (medium). */
export function scanPrivateKeys(text: string): Hit[] {
  const hits = new HitList();
  let open: { index: number; label: string; headerEnd: number } | null = null;
  const flush = (): void => {
    if (open) hits.add(text.slice(open.index, open.headerEnd), open.index, open.headerEnd - open.index, 'medium');
    open = null;
  };
  PEM.lastIndex = 0;
  for (let m = PEM.exec(text); m && !hits.full; m = PEM.exec(text)) {
    const end = m.index + m[0].length;
    if (m[1] === 'BEGIN') {
      flush();
      open = { index: m.index, label: m[2]!, headerEnd: end };
    } else if (open && open.label === m[2] && end - open.index <= MAX_PEM) {
      hits.add(text.slice(open.index, end), open.index, end - open.index, 'high');
      open = null;
    }
  }
  flush();
  return hits.hits;
}

// ---------------------------------------------------------------- cloud keys

interface KeyShape {
  readonly re: RegExp;
  /** The capture group holding the secret (0: the whole match). */
  readonly group: number;
}

const CLOUD_KEYS: readonly KeyShape[] = [
  { re: /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g, group: 0 },
  {
    re: /(?:aws_?)?secret_?access_?key["']?\s{0,4}[:=]\s{0,4}["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/gi,
    group: 1,
  },
  { re: /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g, group: 0 },
  { re: /\bgh[pousr]_[A-Za-z0-9]{36}(?![A-Za-z0-9])/g, group: 0 },
  { re: /\bgithub_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}(?![A-Za-z0-9])/g, group: 0 },
  { re: /\bxox[abprs]-[A-Za-z0-9-]{10,250}/g, group: 0 },
  { re: /\b[sr]k_live_[A-Za-z0-9]{20,250}/g, group: 0 },
];

/** AWS's documentation keys ("AKIAIOSFODNN7EXAMPLE"): shown in samples and tutorials, not real. */
const EXAMPLE = /EXAMPLE/i;

export function scanCloudKeys(text: string): Hit[] {
  const hits = new HitList();
  for (const { re, group } of CLOUD_KEYS) {
    re.lastIndex = 0;
    for (let m = re.exec(text); m && !hits.full; m = re.exec(text)) {
      const value = m[group]!;
      const index = m.index + m[0].length - value.length;
      hits.add(value, index, value.length, EXAMPLE.test(value) ? 'low' : 'high');
    }
  }
  return hits.hits.sort((a, b) => a.index - b.index);
}

// ---------------------------------------------------------------- JWT

// Starts only where a base64url run starts, so a long run is read once, not once per position.
const JWT = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{4,8192}\.[A-Za-z0-9_-]{2,65536}\.[A-Za-z0-9_-]{0,8192}(?![A-Za-z0-9_-])/g;

function decodesToHeader(part: string): boolean {
  const decoded = Buffer.from(part, 'base64url').toString('utf8');
  if (!decoded.endsWith('}')) return false; // cheap: most look-alikes fail here, without an exception
  try {
    const json: unknown = JSON.parse(decoded);
    return typeof json === 'object' && json !== null && typeof (json as { alg?: unknown }).alg === 'string';
  } catch {
    return false;
  }
}

export function scanJwt(text: string): Hit[] {
  const hits = new HitList();
  JWT.lastIndex = 0;
  for (let m = JWT.exec(text); m && !hits.full; m = JWT.exec(text)) {
    if (decodesToHeader(m[0].slice(0, m[0].indexOf('.')))) hits.add(m[0], m.index, m[0].length, 'high');
  }
  return hits.hits;
}

// ---------------------------------------------------------------- passwords

const PASSWORD =
  /\b(?:password|passwort|passwd|passphrase|pwd|secret|api[_-]?key)["']?\s{0,3}[:=]\s{0,3}["']?([^\s"'<>]{6,200})/gi;

/** Values that stand for a password rather than being one. */
const PLACEHOLDERS = new Set([
  'password', 'passwort', 'changeme', 'example', 'redacted', 'removed', 'hidden', 'secret', 'required', 'optional',
  'undefined', 'string', 'yourpassword', 'your_password', 'mypassword', 'placeholder', 'unknown', 'not_set',
]);

export function isPlaceholder(value: string): boolean {
  const v = value.toLowerCase();
  return (
    allSame(v) || // ******, xxxxxx, ......
    PLACEHOLDERS.has(v) ||
    /^(?:\[|\{|<|\$\{|%[sd]|\*|•|\.\.\.)/.test(v) || // [REDACTED], {{pass}}, ${PASS}, %s, ****abc
    /\*{3}/.test(v)
  );
}

/** Letters only or digits only: more likely prose than a password. */
function classes(v: string): number {
  return Number(/[a-z]/.test(v)) + Number(/[A-Z]/.test(v)) + Number(/\d/.test(v)) + Number(/[^A-Za-z\d]/.test(v));
}

export function scanPasswords(text: string): Hit[] {
  const hits = new HitList();
  PASSWORD.lastIndex = 0;
  for (let m = PASSWORD.exec(text); m && !hits.full; m = PASSWORD.exec(text)) {
    const value = m[1]!.replace(/[.,;:!?)]$/, '');
    if (value.length < 6 || isPlaceholder(value)) continue;
    const confidence: Confidence = classes(value) >= 2 ? 'medium' : 'low';
    const index = m.index + m[0].length - m[1]!.length;
    hits.add(value, index, value.length, confidence);
  }
  return hits.hits;
}
