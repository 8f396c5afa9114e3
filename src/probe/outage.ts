/**
 * The outage state machine of the probe, free of I/O so a test can drive it
 * with any times. An outage runs from the start of the first failed round to
 * the end of the first successful round after it, when the probe saw the
 * server serve again (a round that began while the server was hung may still
 * succeed once it resumes: its start would cut the outage short). A probe
 * that stops during an outage closes it at the end of its last failed round,
 * the last moment it saw the server down.
 */
export interface RoundTimes {
  /** When the round began and ended (ms). */
  readonly start: number;
  readonly end: number;
}

export interface Outage {
  readonly from: number;
  readonly to: number;
}

export interface Step {
  /** This round began an outage (the first failure after a success or at start). */
  readonly started: number | null;
  /** This round ended an outage. */
  readonly ended: Outage | null;
}

export class OutageTracker {
  private from: number | null = null;
  private lastFailureEnd: number | null = null;
  private lastOk: number | null = null;

  /** End of the last successful round, or null if none succeeded yet. */
  get lastSuccess(): number | null {
    return this.lastOk;
  }

  /** Start of the outage in progress, or null when the last round succeeded. */
  get outageSince(): number | null {
    return this.from;
  }

  failed(r: RoundTimes): Step {
    this.lastFailureEnd = r.end;
    if (this.from !== null) return { started: null, ended: null };
    this.from = r.start;
    return { started: r.start, ended: null };
  }

  succeeded(r: RoundTimes): Step {
    this.lastOk = r.end;
    const from = this.from;
    this.from = null;
    this.lastFailureEnd = null;
    if (from === null) return { started: null, ended: null };
    return { started: null, ended: { from, to: Math.max(from, r.end) } };
  }

  /** The probe stops: the outage in progress, up to its last failed round, or null. */
  stop(): Outage | null {
    const from = this.from;
    const to = this.lastFailureEnd;
    this.from = this.lastFailureEnd = null;
    return from === null || to === null ? null : { from, to };
  }
}
