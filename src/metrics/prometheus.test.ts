import { describe, expect, it } from 'vitest';
import { MAX_LABEL_VALUES, PosternMetrics, metricNameOf } from './prometheus.js';

const ev = (kind: string, data: Record<string, unknown> = {}) => ({ kind, subject: 's', data, at: 1 });

describe('PosternMetrics', () => {
  it('counts an event in the total and in its own family with its labels', async () => {
    const m = new PosternMetrics({ processMetrics: false });
    m.observe(ev('spoof.detected', { detector: 'lookalike', origin: 'outside', result: 'x', action: 'tag', extra: 'not a label' }));
    m.observe(ev('spoof.detected', { detector: 'lookalike', origin: 'outside', result: 'x', action: 'tag' }));
    const text = await m.metrics();
    expect(text).toContain('postern_events_total{kind="spoof.detected",property="I"} 2');
    expect(text).toContain('postern_spoof_detected_total{detector="lookalike",origin="outside",result="x",action="tag"} 2');
    expect(text).not.toContain('not a label');
  });

  it('folds label values past the bound into "other"', async () => {
    const m = new PosternMetrics({ processMetrics: false });
    for (let i = 0; i < MAX_LABEL_VALUES + 20; i++) m.observe(ev('integrity.corrected', { area: `a${i}` }));
    const text = await m.metrics();
    const series = text.split('\n').filter((l) => l.startsWith('postern_integrity_corrected_total{'));
    expect(series).toHaveLength(MAX_LABEL_VALUES + 1);
    expect(text).toContain('postern_integrity_corrected_total{area="other"} 20');
  });

  it('counts an unknown kind only as other', async () => {
    const m = new PosternMetrics({ processMetrics: false });
    m.observe(ev('no.such.kind'));
    expect(await m.metrics()).toContain('postern_events_total{kind="other",property="unknown"} 1');
    expect(metricNameOf('tls.failure')).toBe('postern_tls_failure_total');
  });
});
