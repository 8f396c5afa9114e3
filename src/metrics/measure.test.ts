import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import type { EventListener, EventFeed } from './feed.js';
import { measureEvents } from './measure.js';
import { PosternMetrics } from './prometheus.js';

function feed(): EventFeed & { emit: EventListener } {
  const listeners: EventListener[] = [];
  return {
    listen: (fn) => {
      listeners.push(fn);
      return () => undefined;
    },
    mute: () => undefined,
    emit: (e) => listeners.forEach((fn) => fn(e)),
  };
}

describe('measureEvents', () => {
  it('logs each event once: per-message facts told elsewhere at debug, the rest at info', () => {
    const lines: { level: number; event: string }[] = [];
    const f = feed();
    measureEvents(f, new PosternMetrics({ processMetrics: false }), createLogger('debug', { write: (s: string) => void lines.push(JSON.parse(s) as { level: number; event: string }) }));
    for (const kind of ['smtp.message', 'smime.at_rest', 'server.heartbeat', 'smtp.session', 'storage.full']) f.emit({ kind, subject: 'q1', data: {}, at: 1 });
    expect(lines.map((l) => [l.event, l.level])).toEqual([
      ['smtp.message', 20],
      ['smime.at_rest', 20],
      ['server.heartbeat', 20],
      ['smtp.session', 30],
      ['storage.full', 30],
    ]);
  });
});
