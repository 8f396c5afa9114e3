/**
 * Why a backup, verify or restore stopped. `usage` is the operator's to fix
 * (a folder that is not empty, a backup that does not exist); `refused` means
 * the data failed a check, and `problems` names each file at fault.
 */
export class BackupError extends Error {
  constructor(
    readonly kind: 'usage' | 'refused',
    message: string,
    readonly problems: readonly string[] = [],
  ) {
    super(problems.length > 0 ? `${message}\n${problems.map((p) => `  ${p}`).join('\n')}` : message);
    this.name = 'BackupError';
  }
}
