// How long a poller waits between polls. vigil says it on every /progress and /events answer:
// the X-Recommended-Interval header (milliseconds) and, on /events, poll_after_seconds in the
// body. Both are absent (null) in a terminal state, which means: stop polling.

export const MIN_POLL_MS = 250;
export const MAX_POLL_MS = 60_000;
export const FALLBACK_POLL_MS = 5_000;

/**
 * The interval in milliseconds, or null when the server says to stop. The header wins over the
 * body. A header that is present but malformed falls back to the body, then to FALLBACK_POLL_MS;
 * a missing header with no body hint (`pollAfterSeconds` null or undefined) means stop.
 */
export function chooseInterval(
  header: string | null,
  pollAfterSeconds?: number | null,
): number | null {
  const clamp = (ms: number) => Math.min(MAX_POLL_MS, Math.max(MIN_POLL_MS, ms));
  const h = header?.trim() ?? null;
  if (h !== null && /^\d{1,9}$/.test(h)) return clamp(Number(h));
  if (typeof pollAfterSeconds === 'number' && Number.isFinite(pollAfterSeconds) && pollAfterSeconds >= 0) {
    return clamp(pollAfterSeconds * 1000);
  }
  return h === null ? null : FALLBACK_POLL_MS;
}
