/**
 * What a probe round connects to, from the config: the SMTP listener named
 * by probe.smtp, the implicit-TLS IMAP port, the probe account's password
 * (first line of probe.password_file) and the certificate to trust
 * (probe.ca_file, else [tls] cert: the probe connects to its own server).
 */
import { readFileSync } from 'node:fs';
import { listenPort, type Config } from '../config/index.js';
import { PosternError } from '../core/errors.js';
import type { ProbeTarget } from './round.js';

const MAX_PASSWORD_FILE = 4096;

function invalid(detail: string): PosternError {
  return new PosternError('CONFIG_INVALID', detail);
}

function readSmall(key: string, file: string, max: number): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw invalid(`${key}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (text.length > max) throw invalid(`${key}: ${file} is larger than ${max} bytes`);
  return text;
}

export function probeTarget(config: Config): ProbeTarget {
  const p = config.probe;
  if (p.address === '') throw invalid('probe.address: is required (an existing account, e.g. "probe@example.org")');
  if (!p.password_file) throw invalid('probe.password_file: is required (a file holding the probe account\'s password)');
  const listener = p.smtp === 'mx' ? config.smtp.mx : config.smtp.submission;
  if (!listener.enabled) throw invalid(`probe.smtp: "${p.smtp}" but smtp.${p.smtp}.enabled = false`);
  if (!config.imap.enabled) throw invalid('probe: the probe reads its mail over IMAP, but imap.enabled = false');
  const password = readSmall('probe.password_file', p.password_file, MAX_PASSWORD_FILE).split(/\r?\n/)[0] ?? '';
  if (password === '') throw invalid(`probe.password_file: ${p.password_file} holds no password on its first line`);
  const ca = readSmall(p.ca_file ? 'probe.ca_file' : 'tls.cert', p.ca_file ?? config.tls.cert, 1024 * 1024);
  return {
    smtp: { host: p.host, port: listenPort(config, listener.port), mode: p.smtp },
    imap: { host: p.host, port: listenPort(config, config.imap.tls_port) },
    address: p.address,
    password,
    ca,
    servername: config.server.hostname,
    timeoutMs: p.timeout * 1000,
  };
}
