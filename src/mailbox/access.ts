import type { SecureContextOptions } from 'node:tls';
import type { Clock } from '../core/clock.js';
import type { Directory } from '../directory/directory.js';
import type { Logger } from '../metrics/logger.js';
import type { LoginThrottle } from '../net/throttle.js';
import type { BlobStore, MailboxRepo } from '../store/types.js';
import type { MailboxNotifier } from './notify.js';

/** What every mail access protocol (IMAP, POP3) is built from; each adds its own limits. */
export interface MailAccessDeps {
  hostname: string;
  directory: Directory;
  mailboxes: MailboxRepo;
  blobs: BlobStore;
  /** Every session that changes a folder calls changed(); sessions with it open subscribe. */
  notifier: MailboxNotifier;
  clock: Clock;
  log: Logger;
  /** The server's own certificate and key (required). */
  tls: SecureContextOptions;
  /** Shared with the other listeners, so guessing a password counts the same on every port. */
  authThrottle: LoginThrottle;
  /** Where measured events go (metrics/events.ts); optional in tests. */
  events?: { record(kind: string, subject: string, data: Record<string, unknown>): void };
}
