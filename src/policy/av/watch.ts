/**
 * Engine up/down as seen by scans: `engine.down` when an engine first fails
 * to answer, `engine.up` when it answers again, once per change (not per
 * message). Engines are taken to be up until a scan says otherwise.
 */
import type { EventSink } from '../pipeline/pipeline.js';

export class EngineWatch {
  private readonly down = new Map<string, string>();

  constructor(private readonly events?: EventSink) {}

  up(engine: string): void {
    if (!this.down.has(engine)) return;
    this.down.delete(engine);
    this.events?.record('engine.up', engine, { engine });
  }

  failed(engine: string, detail: string): void {
    if (this.down.has(engine)) return;
    this.down.set(engine, detail);
    this.events?.record('engine.down', engine, { engine, detail: detail.slice(0, 200) });
  }

  /** Engines down now, with the first failure seen. */
  get downNow(): ReadonlyMap<string, string> {
    return this.down;
  }
}
