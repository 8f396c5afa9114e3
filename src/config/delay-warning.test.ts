import { describe, expect, it } from 'vitest';
import { parseConfig } from './load.js';
import { durationSeconds } from './schema.js';

const MIN = '[server]\nhostname = "mail.example.org"\n';

describe('[delivery] delay_warning', () => {
  it('defaults to 4h and takes 0 (off) or a duration in s, m, h or d', () => {
    const r = parseConfig(MIN, '/srv/postern');
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(durationSeconds(r.config.delivery.delay_warning)).toBe(4 * 3600);
    for (const [v, secs] of [['0', 0], ['"0"', 0], ['"90s"', 90], ['"30m"', 1800], ['"1d"', 86_400]] as const) {
      const x = parseConfig(`${MIN}[delivery]\ndelay_warning = ${v}\n`, '/srv/postern');
      if (!x.ok) throw new Error(JSON.stringify(x.errors));
      expect(durationSeconds(x.config.delivery.delay_warning), v).toBe(secs);
    }
  });

  it('refuses anything else with a clear message', () => {
    for (const v of ['"4"', '"4 h"', '"-1h"', '"31d"', '3600', '"h"']) {
      const x = parseConfig(`${MIN}[delivery]\ndelay_warning = ${v}\n`, '/srv/postern');
      expect(x.ok, v).toBe(false);
      if (!x.ok) expect(JSON.stringify(x.errors), v).toContain('delay_warning');
    }
  });
});
