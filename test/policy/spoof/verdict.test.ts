import { describe, expect, it } from 'vitest';
import { DEFAULT_SPOOF_ACTIONS, spoofVerdict } from '../../../src/policy/spoof/index.js';
import type { Finding } from '../../../src/policy/spoof/index.js';

const lookalike: Finding = { detector: 'lookalike', origin: 'outside', result: 'homoglyph', claimed: 'xn--xample-2of.test', reasons: [{ rule: 'lookalike.from', detail: 'еxample.test (xn--xample-2of.test) looks like example.test' }] };
const own: Finding = { detector: 'own-domain', origin: 'outside', result: 'forged-from', claimed: 'ceo@example.test', reasons: [{ rule: 'own-domain.from' }] };
const hostile: Finding = { detector: 'display-name', origin: 'outside', result: 'impersonation', claimed: `Jane\u202e\u0000 Doe ${'x'.repeat(500)}`, reasons: [{ rule: 'display-name.person', detail: `\u0007${'y'.repeat(500)}` }] };

describe('spoofVerdict', () => {
  it('passes with no findings', () => {
    const v = spoofVerdict([]);
    expect(v).toMatchObject({ stage: 'spoof', action: 'pass', headers: [], events: [] });
  });

  it('tags by default, with header, banner and one event per finding', () => {
    const v = spoofVerdict([lookalike]);
    expect(v.action).toBe('tag');
    expect(v.headers).toEqual([['X-Postern-Spoof', 'lookalike=homoglyph']]);
    expect(v.banner).toMatch(/^CAUTION: this message comes from xn--xample-2of\.test/);
    expect(v.events).toEqual([{ kind: 'spoof.detected', labels: { detector: 'lookalike', origin: 'outside', result: 'homoglyph', action: 'tag' } }]);
    expect(v.reasons).toHaveLength(1);
  });

  it('takes the strictest configured action; quarantine holds; own-domain quarantines by default', () => {
    expect(spoofVerdict([lookalike, own]).action).toBe('hold');
    expect(spoofVerdict([lookalike, own], { lookalike: 'reject' }).action).toBe('reject');
    const v = spoofVerdict([lookalike, own], { lookalike: 'reject' });
    expect(v.reply).toBe('5.7.1 Message refused: forged sender (lookalike)');
    expect(v.banner).toBeUndefined();
    expect(v.headers[0]![1]).toBe('lookalike=homoglyph; own-domain=forged-from');
    expect(v.events.map((e) => e.labels['action'])).toEqual(['reject', 'hold']);
  });

  it('drops findings of detectors that are off', () => {
    expect(spoofVerdict([lookalike], { lookalike: 'off' }).action).toBe('pass');
    const v = spoofVerdict([lookalike, own], { 'own-domain': 'off' });
    expect(v.action).toBe('tag');
    expect(v.events).toHaveLength(1);
  });

  it('honours other defaults', () => {
    expect(spoofVerdict([own], {}, { ...DEFAULT_SPOOF_ACTIONS, 'own-domain': 'tag' }).action).toBe('tag');
    expect(spoofVerdict([own], {}, { ...DEFAULT_SPOOF_ACTIONS, 'own-domain': 'reject' }).action).toBe('reject');
  });

  it('keeps attacker text short and printable', () => {
    const v = spoofVerdict([hostile]);
    expect(v.banner).toBeDefined();
    expect(v.banner!).not.toMatch(/[\p{Cc}\u202e]/u);
    expect(v.banner!).toMatch(/^[\x20-\x7e\n]*$/);
    expect(v.banner!).not.toContain('x'.repeat(81));
    expect(v.reasons[0]!.detail!.length).toBeLessThanOrEqual(160);
    expect(v.reasons[0]!.detail).not.toContain('\u0007');
  });
});
