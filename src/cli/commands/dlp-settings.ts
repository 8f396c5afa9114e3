/**
 * What the `postern dlp` commands take from the configuration: the rules
 * file ([policy.dlp] rules, or --rules for an administrator trying a draft),
 * the time budget per message and the extraction bounds, so a command
 * classifies exactly as the running server would.
 */
import type { Config } from '../../config/index.js';
import type { Direction } from '../../core/verdict.js';
import { dlpContentLimits } from '../policy.js';
import { DEFAULT_CONTENT_LIMITS } from '../../policy/dlp/extract/index.js';
import { loadRules, RulesError } from '../../policy/dlp/rules/index.js';
import type { ContentLimits, RulesSpec } from '../../policy/dlp/types.js';
import { FingerprintFileError } from '../../policy/dlp/fingerprint-file.js';
import { ScanSelectionError } from '../../policy/dlp/scan.js';
import { readConfig, resolveConfigPath, UsageError } from '../context.js';
import type { Command } from 'commander';

export const cfgPath = (cmd: Command): string => resolveConfigPath((cmd.optsWithGlobals() as { config?: string }).config);

/** The rules file: --rules when given (no configuration needed), else [policy.dlp] rules. */
export function rulesPathOf(cmd: Command, override: string | undefined): string {
  if (override !== undefined) return override;
  const p = readConfig(cfgPath(cmd)).policy.dlp.rules;
  if (p === undefined) throw new UsageError('no DLP rules file is configured: set rules = "dlp-rules.toml" in [policy.dlp], or give --rules FILE');
  return p;
}

/** loadRules with its list of mistakes as a usage error (exit 2, no stack trace). */
export async function rulesFrom(path: string): Promise<RulesSpec> {
  try {
    return await loadRules(path);
  } catch (e) {
    if (e instanceof RulesError) throw new UsageError(e.message);
    throw e;
  }
}

/**
 * The server's limits for [policy.dlp] (the defaults when there is no
 * configuration to read), computed as src/cli/policy.ts computes them for the
 * stage: archive bounds of [policy.attachments] when a stage opens archives.
 */
export function limitsOf(config: Config | null): { limits: ContentLimits; budgetMs: number } {
  if (!config) return { limits: DEFAULT_CONTENT_LIMITS, budgetMs: 15_000 };
  return { limits: dlpContentLimits(config), budgetMs: config.policy.dlp.budget_ms };
}

/** The configuration when it can be read; null when --rules stands in for it and there is none. */
export function configIfAny(cmd: Command, rulesGiven: boolean): Config | null {
  try {
    return readConfig(cfgPath(cmd));
  } catch (e) {
    if (rulesGiven) return null;
    throw e;
  }
}

const DIRECTIONS: readonly Direction[] = ['inbound', 'outbound', 'internal'];

export function parseDirection(text: string): Direction {
  if ((DIRECTIONS as readonly string[]).includes(text)) return text as Direction;
  throw new UsageError(`--direction takes inbound, outbound or internal, not ${JSON.stringify(text.slice(0, 40))}`);
}

/** Library errors a user caused become one-line errors with exit code 2. */
export async function asUsage<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof FingerprintFileError || e instanceof ScanSelectionError) throw new UsageError(e.message);
    throw e;
  }
}
