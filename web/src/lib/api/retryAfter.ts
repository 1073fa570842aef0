// Retry-After (RFC 9110 §10.2.3), which vigil sends with 429 and 503: read by the JSON client
// (ApiError.retryAfterSeconds) and by the live transport's polls, which both stand on this layer.

/**
 * The seconds a Retry-After header asks to wait (delta-seconds or an HTTP date), or null when
 * there is none or it cannot be read.
 */
export function retryAfterSeconds(headers: { get(name: string): string | null }, nowMs = Date.now()): number | null {
  const v = headers.get('Retry-After');
  if (v === null) return null;
  const n = Number(v);
  if (v.trim() !== '' && Number.isFinite(n) && n >= 0) return n;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, (at - nowMs) / 1000);
}
