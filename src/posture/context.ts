/**
 * What the checks are handed: the configuration, the store, the malware
 * engines and the DLP rules loader (built by the command, since posture sits
 * below the composition root), the time and the per-connection deadline.
 */
import type { Config } from '../config/index.js';
import type { ScanEngine } from '../policy/av/engine.js';
import type { Store } from '../store/index.js';
import type { CheckDns } from './dns-lookup.js';

export interface PostureContext {
  readonly config: Config;
  readonly store: Store;
  /** The engines [policy.malware] configures, as the server would run them. */
  readonly engines: readonly ScanEngine[];
  /** Loads the DLP rules file: the number of rules, or throws why it cannot. */
  readonly loadDlpRules: (path: string) => Promise<number>;
  /** The configured resolver, for the organisation's DNS records. */
  readonly dns: CheckDns;
  readonly now: number;
  /** Milliseconds any one connection, handshake or reply may take. */
  readonly timeoutMs: number;
}
