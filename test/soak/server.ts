/**
 * Keeps the postern process of a soak run: start, SIGKILL, clean restart.
 * An exit nobody asked for is a crash: it is recorded with the end of the
 * server's stderr, and the server is started again so the run can go on and
 * report everything it saw.
 */
import { startServer, type ServerProcess } from '../process/postern-process.js';
import type { SoakInstallation } from './install.js';

export interface Crash {
  at: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

export class Supervisor {
  private server: ServerProcess | null = null;
  private expected = false;
  private restarting: Promise<void> | null = null;
  readonly crashes: Crash[] = [];
  starts = 0;

  constructor(private readonly inst: SoakInstallation) {}

  get up(): boolean {
    return this.server !== null;
  }

  get pid(): number | undefined {
    return this.server?.proc.pid;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const s = await startServer(this.inst, 60_000);
    this.starts++;
    this.server = s;
    s.proc.once('exit', (code, signal) => {
      if (this.server !== s || this.expected) return;
      this.server = null;
      this.crashes.push({ at: Date.now(), code, signal, stderr: s.stderr().slice(-3000) });
      this.restarting = this.start().catch((e: Error) => {
        this.crashes.push({ at: Date.now(), code: null, signal: null, stderr: `restart failed: ${e.message.slice(-3000)}` });
      });
    });
  }

  /** Waits for a restart after a crash, if one is under way. */
  async settled(): Promise<void> {
    while (this.restarting) {
      const r = this.restarting;
      await r;
      if (this.restarting === r) this.restarting = null;
    }
  }

  async stop(signal: NodeJS.Signals): Promise<void> {
    await this.settled();
    const s = this.server;
    if (!s) return;
    this.expected = true;
    try {
      await s.kill(signal);
    } finally {
      this.server = null;
      this.expected = false;
    }
  }
}
