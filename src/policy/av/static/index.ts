/**
 * The engines and the stage of this folder built from the config: the
 * "static" and "yara" ScanEngines (for the malware stage) and the
 * `attachments` stage.
 */
import type { Config } from '../../../config/index.js';
import type { Direction } from '../../../core/verdict.js';
import type { Stage } from '../../pipeline/stage.js';
import type { PolicyPool } from '../../pool/index.js';
import { attachmentsStage, type AttachmentRules } from '../attachments.js';
import type { ScanEngine } from '../engine.js';
import type { ExtractLimits } from '../parts.js';
import { StaticEngine } from './engine.js';
import { HashListFile } from './hashes.js';
import { YaraEngine } from './yara.js';

export { StaticEngine, STATIC_ENGINE } from './engine.js';
export { YaraEngine, YARA_ENGINE } from './yara.js';
export { HashListFile, parseHashList } from './hashes.js';

type Policy = Config['policy'];

/** The archive limits of [policy.attachments], which the engines share. */
export function extractLimits(p: Policy): ExtractLimits {
  const a = p.attachments;
  return { maxArchiveDepth: a.max_archive_depth, maxTotalBytes: a.max_unpacked_mib * 1024 * 1024, maxRatio: a.max_ratio, maxEntries: a.max_archive_entries };
}

/** The engines [policy.malware.static] and [policy.malware.yara] enable, in that order. */
export function staticEngines(config: Config, pool: PolicyPool): ScanEngine[] {
  const m = config.policy.malware;
  const limits = extractLimits(config.policy);
  const engines: ScanEngine[] = [];
  if (m.static.enabled) {
    const hashes = m.static.bad_hashes_file ? new HashListFile(m.static.bad_hashes_file) : null;
    engines.push(new StaticEngine({ pool, limits, budgetMs: m.static.budget_ms, hashes }));
  }
  if (m.yara.enabled) engines.push(new YaraEngine({ pool, limits, rulesDir: m.yara.rules_dir, timeoutMs: m.yara.timeout_ms }));
  return engines;
}

/** The `attachments` stage of [policy.attachments], each direction's lists resolved. */
export function attachmentsFromConfig(config: Config, pool: PolicyPool): Stage {
  const a = config.policy.attachments;
  const rules = (d: Direction): AttachmentRules => {
    const o = a[d];
    return {
      enabled: o.enabled ?? true,
      action: o.action ?? a.action,
      blockExtensions: new Set(o.block_extensions ?? a.block_extensions),
      blockTypes: new Set(o.block_types ?? a.block_types),
      blockUnreadableArchives: a.block_unreadable_archives,
    };
  };
  return attachmentsStage({
    pool,
    phase: a.phase,
    budgetMs: a.budget_ms,
    limits: extractLimits(config.policy),
    rules: { inbound: rules('inbound'), outbound: rules('outbound'), internal: rules('internal') },
  });
}
