/**
 * What a new password must be, wherever it is set (`postern user add|passwd`,
 * the console's own-account page): one rule, so no path is weaker than another.
 */
export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 1024;

/** Why the password may not be used, or null when it may. */
export function checkPasswordStrength(p: string): string | null {
  if (p.length < MIN_PASSWORD_LENGTH) return `password must have at least ${MIN_PASSWORD_LENGTH} characters`;
  if (p.length > MAX_PASSWORD_LENGTH) return `password must have at most ${MAX_PASSWORD_LENGTH} characters`;
  return null;
}
