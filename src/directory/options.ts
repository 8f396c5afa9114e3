import type { Config } from '../config/index.js';
import { REQUIRED_LOCAL_PARTS, type DirectoryOptions } from './directory.js';

/** The directory as the configuration sets it up; the server and `postern audit` route alike. */
export function directoryOptions(config: Config): DirectoryOptions {
  return {
    // A DMARC report address other than the published default exists too.
    requiredLocalParts: [...new Set([...REQUIRED_LOCAL_PARTS, config.policy.dmarc_reports.local_part])],
    ...(config.directory.postmaster ? { postmaster: config.directory.postmaster } : {}),
  };
}
