/**
 * The IMAP state machine of one connection (RFC 9051 section 3): not
 * authenticated → authenticated → selected → logout. Commands are parsed,
 * checked against the state, run, and followed by the untagged updates the
 * client is owed and the tagged response.
 */
import {
  bad,
  bye,
  continuation,
  no,
  ok,
  parseImapCommand,
  type EncodeOptions,
  type ImapCommand,
  type ImapCommandReader,
  type ImapReaderEvent,
  type RawCommand,
} from '../codec/imap/index.js';
import { isPosternError } from '../core/errors.js';
import type { Logger } from '../metrics/logger.js';
import type { BudgetHold } from '../net/memory-budget.js';
import type { Account } from '../store/types.js';
import { capabilities } from './capabilities.js';
import { commandEntry, type SessionState } from './commands/registry.js';
import { refreshContexts } from './context.js';
import { authenticateLine, type PendingAuth } from './commands/auth.js';
import { scramMechanisms } from '../directory/scram.js';
import type { SessionHandler, SessionPort } from './connection.js';
import { SessionNotify } from './notify.js';
import type { SelectedMailbox } from './selected.js';
import type { StructureCache } from './structure.js';
import type { ImapDeps } from './types.js';

/** Literals accepted before login: enough for a LOGIN with a long password. */
const PREAUTH_LITERAL_MAX = 8 * 1024;
/** Literals in commands other than APPEND (mailbox names, search strings). */
const COMMAND_LITERAL_MAX = 1024 * 1024;
/** A command that took this long is logged at info even when it succeeded. */
const SLOW_COMMAND_MS = 1000;
/** Errors tolerated before login before the connection is closed. */
const PREAUTH_ERROR_LIMIT = 10;

export class ImapSession implements SessionHandler {
  state: SessionState = 'notauth';
  account: Account | null = null;
  log: Logger;
  selected: SelectedMailbox | null = null;
  /** Extensions turned on by ENABLE (canonical names). */
  readonly enabled = new Set<string>();
  /** CONDSTORE is on: enabled, or used by a CONDSTORE-enabling command (RFC 7162 3.1). */
  condstore = false;
  /** UIDs saved by SEARCH RETURN (SAVE) for "$". */
  saved: Set<number> | null = null;
  authFailures = 0;
  /** Tag of the IDLE command in progress. */
  idleTag: string | null = null;
  /** AUTHENTICATE waiting for the client's response line. */
  pendingAuth: PendingAuth | null = null;
  /** NOTIFY (RFC 5465): what the client asked to hear about, and what is owed. */
  readonly notify = new SessionNotify(this);
  private errors = 0;
  commands = 0;
  /** Memory-budget bytes of the APPEND literals of the command being read; given back when it ends. */
  private literalHold: BudgetHold | null = null;

  constructor(
    readonly port: SessionPort,
    readonly deps: ImapDeps,
    readonly cache: StructureCache,
    log: Logger,
  ) {
    this.log = log;
  }

  get rev2(): boolean {
    return this.enabled.has('IMAP4rev2');
  }

  get qresync(): boolean {
    return this.enabled.has('QRESYNC');
  }

  /** Mailbox names and strings are UTF-8 (IMAP4rev2, or UTF8=ACCEPT of RFC 6855), not modified UTF-7. */
  get utf8(): boolean {
    return this.rev2 || this.enabled.has('UTF8=ACCEPT');
  }

  get encode(): EncodeOptions {
    return { utf8: this.utf8 };
  }

  send(data: Buffer | readonly Buffer[]): void {
    this.port.out.send(data);
  }

  capabilities(): string[] {
    const scram = this.port.secure && this.account === null ? scramMechanisms(true) : [];
    return capabilities({ secure: this.port.secure, authenticated: this.account !== null, appendLimit: this.deps.limits.maxLiteralSize, scram, urlauth: this.deps.urlauthKeys !== undefined });
  }

  greeting(): Buffer {
    return ok(null, `${this.deps.hostname} IMAP4rev2 server ready`, { code: 'CAPABILITY', capabilities: this.capabilities() });
  }

  timedOut(): Buffer {
    return bye('Autologout; idle for too long');
  }

  dispose(): void {
    this.releaseLiterals();
    this.notify.none();
    this.deselect();
    this.log.info({ commands: this.commands }, 'connection closed');
  }

  deselect(): void {
    this.selected?.close();
    this.selected = null;
    this.saved = null;
    if (this.state === 'selected') this.state = 'auth';
  }

  async handle(ev: ImapReaderEvent, reader: ImapCommandReader): Promise<void> {
    switch (ev.type) {
      case 'command':
        try {
          await this.command(ev.command);
        } finally {
          this.releaseLiterals();
        }
        break;
      case 'literal-request':
        await this.literal(ev, reader);
        break;
      case 'error':
        this.releaseLiterals(); // the command's literals are discarded with it
        if (ev.fatal) this.port.close(bye(ev.message));
        else if (this.idleTag !== null || this.pendingAuth !== null) this.abortContinuation(ev.message);
        else if (ev.code === 'literal-too-large' || ev.code === 'command-too-large') this.send(no(ev.tag, ev.message, 'TOOBIG'));
        else this.send(bad(ev.tag, ev.message));
        this.countError();
        break;
      case 'idle-end': {
        const tag = this.idleTag;
        this.idleTag = null;
        if (tag !== null) this.send(ev.done ? ok(tag, 'IDLE terminated') : bad(tag, 'Expected DONE'));
        break;
      }
      case 'line':
        this.port.setReaderMode('command');
        await authenticateLine(this, ev.line);
        break;
    }
    await this.port.out.flush();
  }

  /** An overlong line ended IDLE or an AUTHENTICATE exchange: the command fails and the reader reads commands again. */
  private abortContinuation(message: string): void {
    const tag = this.idleTag ?? this.pendingAuth!.tag;
    this.idleTag = null;
    this.pendingAuth = null;
    this.port.setReaderMode('command');
    this.send(bad(tag, message));
  }

  private countError(): void {
    if (this.account === null && ++this.errors >= PREAUTH_ERROR_LIMIT) this.port.close(bye('Too many errors'));
  }

  private async literal(ev: ImapReaderEvent & { type: 'literal-request' }, reader: ImapCommandReader): Promise<void> {
    const refuse = (response: Buffer): void => {
      this.releaseLiterals();
      const { mustClose } = reader.refuseLiteral();
      this.send(response);
      if (mustClose) this.port.close(bye('Literal too large'));
    };
    if (this.account === null) {
      // LOGIN needs two literals at most; anything more before login is only a way to make us buffer.
      if (ev.size > PREAUTH_LITERAL_MAX || ev.index >= 2) return refuse(bad(ev.tag, 'Literal too large before login'));
    } else if (ev.verb === 'APPEND') {
      const quota = this.account.quotaBytes;
      if (quota !== null && (await this.deps.mailboxes.usage(this.account.id)) + ev.size > quota) {
        return refuse(no(ev.tag, 'Quota exceeded', 'OVERQUOTA'));
      }
    } else if (ev.size > COMMAND_LITERAL_MAX) {
      return refuse(bad(ev.tag, 'Literal too large'));
    }
    // After login the reader buffers whole literals (APPENDed messages above
    // all): they count against the process-wide budget shared with SMTP.
    const budget = this.deps.memoryBudget;
    if (budget && this.account !== null) {
      this.literalHold ??= budget.holder();
      if (!this.literalHold.reserve(ev.size)) {
        this.log.warn({ size: ev.size, verb: ev.verb, budget: budget.total, used: budget.used }, 'literal refused: memory budget spent');
        return refuse(no(ev.tag, 'Server busy, try again later', 'UNAVAILABLE'));
      }
    }
    reader.acceptLiteral();
    if (!ev.nonSync) this.send(continuation('Ready for literal data'));
  }

  private releaseLiterals(): void {
    this.literalHold?.releaseAll();
    this.literalHold = null;
  }

  private async command(raw: RawCommand): Promise<void> {
    const parsed = parseImapCommand(raw, { utf8: this.utf8 });
    if (!parsed.ok) {
      const e = parsed.error;
      this.send(e.code === 'mailbox-name' ? no(e.tag, e.message) : bad(e.tag, e.message));
      this.countError();
      return;
    }
    const cmd = parsed.command;
    this.commands++;
    if (cmd.name === 'unknown') {
      this.log.debug({ cmd: cmd.verb }, 'unknown command');
      this.send(bad(cmd.tag, 'Unknown command'));
      this.countError();
      return;
    }
    const entry = commandEntry(cmd.name);
    if (!entry.states.includes(this.state)) {
      this.send(bad(cmd.tag, wrongState(this.state, entry.states)));
      this.countError();
      return;
    }
    const started = this.deps.clock.now();
    const condstoreBefore = this.condstore;
    let tagged: Buffer | null;
    try {
      tagged = await entry.run(this, cmd);
    } catch (err) {
      if (isPosternError(err, 'LIMIT')) {
        // A store limit (keywords per mailbox, ...): the command changed nothing and the client is told why.
        this.log.info({ cmd: commandName(cmd), reason: err.message }, 'command refused at a limit');
        tagged = no(cmd.tag, err.message, 'LIMIT');
      } else {
        this.log.error({ err, cmd: commandName(cmd) }, 'command failed');
        tagged = isPosternError(err) && err.severity === 'recoverable'
          ? no(cmd.tag, 'Temporary failure, please try again', 'UNAVAILABLE')
          : no(cmd.tag, 'Internal error', 'SERVERBUG');
      }
    }
    // Command names and outcomes only: arguments may hold passwords, literals hold mail. Routine
    // successes go at debug: at info a busy server spent a few per cent of its time on these lines.
    const status = tagged ? statusOf(tagged) : null;
    const ms = this.deps.clock.now() - started;
    if ((status === 'OK' || status === null) && ms < SLOW_COMMAND_MS) this.log.debug({ cmd: commandName(cmd), status, ms }, 'command');
    else this.log.info({ cmd: commandName(cmd), status, ms }, 'command');
    if (tagged === null) return;
    // The first CONDSTORE-enabling command with a mailbox selected is told its HIGHESTMODSEQ (RFC 7162 3.1).
    if (!condstoreBefore && this.condstore && this.selected && cmd.name !== 'SELECT' && cmd.name !== 'EXAMINE') {
      this.send(ok(null, 'Highest', { code: 'HIGHESTMODSEQ', value: this.selected.view.highestModseq }));
    }
    await this.finish(cmd, tagged);
  }

  /** Sends what the client is owed about the selected folder, then the tagged response. */
  private async finish(cmd: ImapCommand, tagged: Buffer): Promise<void> {
    const sel = this.selected;
    if (sel && !this.port.closing) {
      const sequenceBound = (cmd.name === 'FETCH' || cmd.name === 'STORE' || cmd.name === 'SEARCH' || cmd.name === 'SORT' || cmd.name === 'THREAD') && !cmd.uid;
      if (!(await this.updates(!sequenceBound))) return;
    }
    this.send(tagged);
  }

  /** Syncs the selected folder and sends the updates; false when the folder is gone (the session closes). */
  async updates(expunge: boolean, force = false): Promise<boolean> {
    const sel = this.selected;
    if (!sel) return true;
    const lastUid = sel.view.maxUid;
    if ((await sel.sync(this.deps.mailboxes, force)) === 'gone') {
      this.log.info({ folder: sel.name }, 'selected folder deleted');
      this.port.close(bye('Selected mailbox was deleted'));
      return false;
    }
    this.notify.noteNew(lastUid);
    const contexts = await refreshContexts(this, sel);
    this.send(sel.takeUpdates({ expunge, qresync: this.qresync, condstore: this.condstore, contexts }));
    return this.notify.fetchNew();
  }

  /** The notifier saw a change to the selected folder: an IDLE client, or one that asked NOTIFY for it, hears at once. */
  folderChanged(): void {
    if (this.notify.selectedSpec) return this.notify.selectedChanged();
    if (this.idleTag === null) return;
    this.port
      .exclusive(async () => {
        if (this.idleTag === null || this.port.closing) return;
        await this.updates(true);
        await this.port.out.flush();
      })
      .catch((err: unknown) => {
        this.log.warn({ err }, 'IDLE update failed');
        this.port.close();
      });
  }
}

function wrongState(state: SessionState, allowed: readonly SessionState[]): string {
  if (state === 'notauth') return 'Log in first';
  if (allowed.includes('notauth')) return 'Already logged in';
  return 'No mailbox selected';
}

/** "OK", "NO" or "BAD" from a tagged response ("tag OK text"). */
export function statusOf(tagged: Buffer): string {
  const start = tagged.indexOf(0x20) + 1;
  if (start === 0) return '';
  let end = start;
  while (end < tagged.length && end - start < 3 && tagged[end] !== 0x20 && tagged[end] !== 0x0d) end++;
  return tagged.toString('latin1', start, end);
}

function commandName(cmd: ImapCommand): string {
  return 'uid' in cmd && cmd.uid ? `UID ${cmd.name}` : cmd.name;
}
