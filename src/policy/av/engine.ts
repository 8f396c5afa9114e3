/**
 * The malware engine interface. Each engine looks at the whole message as
 * stored (it decodes MIME and archives itself, or is handed the parts) and
 * says what it found; an engine that cannot answer (down, timed out, its
 * database unloadable) throws EngineUnavailable, and the stage fails closed.
 * Engines are independent on purpose: two different kinds of engine catch
 * more than one.
 */

export interface Detection {
  /** The engine that found it, e.g. "clamav", "yara", "static". */
  readonly engine: string;
  /** The signature or rule name, e.g. "Eicar-Signature", "macro-office-document". */
  readonly signature: string;
  /** Where in the message: a MIME part path and file name ("2/invoice.zip!doc.exe"), or null for the whole message. */
  readonly part: string | null;
}

export interface EngineResult {
  readonly engine: string;
  readonly detections: readonly Detection[];
  /** Engine and signature database version, as the engine reports it. */
  readonly version: string | null;
  readonly ms: number;
}

export interface EngineHealth {
  readonly engine: string;
  readonly up: boolean;
  readonly version: string | null;
  /** When the signature database (or rule set) was built or last changed, Unix ms; null if unknown. */
  readonly signaturesAt: number | null;
  readonly detail?: string;
}

import type { PoolWork } from '../pool/batch.js';

export interface ScanEngine {
  readonly name: string;
  /** Scans one message; rejects with EngineUnavailable when it cannot give an answer. Must honour `signal`. */
  scan(raw: Uint8Array, signal: AbortSignal, pooled?: Promise<unknown>): Promise<EngineResult>;
  /** The policy-pool task scan() runs, for the pipeline to send ahead; scan() then gets its answer as `pooled`. */
  poolWork?(): PoolWork;
  health(signal: AbortSignal): Promise<EngineHealth>;
  close(): Promise<void>;
}

export class EngineUnavailable extends Error {
  constructor(
    readonly engine: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${engine}: ${message}`, options);
    this.name = 'EngineUnavailable';
  }
}
