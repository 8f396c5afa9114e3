// Small statistics for repeated measurements.

/** Median of the finite numbers in xs (the mean of the middle two for an even count); NaN when none. */
export function median(xs) {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Nearest-rank percentile p (0..100] of xs; NaN when empty. */
export function percentile(xs, p) {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const rank = Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length)));
  return s[rank - 1];
}

/** postern / peer, or NaN when either is missing or the peer's figure is 0. */
export function ratio(ours, theirs) {
  if (!Number.isFinite(ours) || !Number.isFinite(theirs) || theirs === 0) return NaN;
  return ours / theirs;
}

/**
 * The order servers run in for repetition r: rotated by one each time, so no
 * server always runs first (on a cold cache) or last (after the others' load).
 */
export function rotation(servers, r) {
  const k = servers.length ? r % servers.length : 0;
  return [...servers.slice(k), ...servers.slice(0, k)];
}
