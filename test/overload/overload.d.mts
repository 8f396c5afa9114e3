// Types for overload.mjs (plain JavaScript so bench/overload.mjs can run it after a build).
export interface OverloadOptions {
  smtpSessions: number;
  imapIdle: number;
  perAddress?: number;
  imapPerAddress?: number;
  seconds: number;
  dribbleMs: number;
  legit: number;
  /** How long the legitimate reader waits for all its mail (default 120 s). */
  readWaitMs?: number;
  limits: { smtpMax: number; smtpPerClient: number; imapMax: number; imapPerClient: number };
  log?: (line: string) => void;
}
type Tally = { ok: number; firstTry: number; retries: number; latencies: number[]; fatal: string[] };
export interface OverloadReport {
  alive: boolean;
  exit: { code: number | null; signal: string | null; stderr: string } | null;
  memory: { beforeKiB: number; afterImapKiB: number; peakRssKiB: number; hwmKiB: number; endKiB: number };
  imap: {
    open: number;
    /** Greeted connections the server closed before the run let them go, and when the first went (ms after the first connect). */
    closedEarly: number;
    firstClosedAfterMs: number | null;
    errors: Record<string, number>;
    requested: number;
    openMs: number;
    stillOpenAtEnd: number;
  } & Record<string, unknown>;
  /** Time to the 220 greeting on the (unflooded) submission listener, probed every 500 ms during the flood. */
  /** The same before the flood (idle IMAP connections already open). */
  greetingQuiet: { median: number | null; max: number | null; p99: number | null; probes: number; failed: number };
  greeting: { median: number | null; max: number | null; p99: number | null; probes: number; failed: number };
  smtp: {
    replies: Record<'2xx' | '3xx' | '4xx' | '5xx' | 'other', number>;
    sessions: Record<string, number>;
    connErrors: Record<string, number>;
    accepted: number;
    samples5xx: string[];
    samples4xx: string[];
    workers: number;
  };
  /** Recipients still queued when the flood ended (-1: could not tell). */
  backlogAtFloodEnd: number;
  legit: {
    mx: Tally;
    sub: Tally;
    /** imaplib's reads until every legitimate message acknowledged was in the INBOX (or readWaitMs ran out). */
    read: { found: number; want: number; attempts: number; ms: number; completedDuringFlood: boolean; error: string | null };
    after: Tally;
  };
}
export function runOverload(o: OverloadOptions): Promise<OverloadReport>;
export function spread(ms: number[]): { median: number | null; max: number | null };
export function percentile(ms: number[], q: number): number | null;
export function memoryOf(pid: number): { rss: number; hwm: number };
export function loopback(block: number, n: number): string;
export function freePort(): Promise<number>;
