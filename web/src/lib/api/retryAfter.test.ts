import { describe, expect, it } from 'vitest';
import { retryAfterSeconds } from './retryAfter';

describe('retryAfterSeconds', () => {
  const h = (v: string | null) => ({ get: (n: string) => (n === 'Retry-After' ? v : null) });
  it('reads delta-seconds and HTTP dates, and nothing else', () => {
    expect(retryAfterSeconds(h('5'))).toBe(5);
    expect(retryAfterSeconds(h('0'))).toBe(0);
    expect(retryAfterSeconds(h(null))).toBeNull();
    expect(retryAfterSeconds(h(''))).toBeNull();
    expect(retryAfterSeconds(h('soon'))).toBeNull();
    const now = Date.parse('2026-11-22T10:00:00Z');
    expect(retryAfterSeconds(h('Sun, 22 Nov 2026 10:00:30 GMT'), now)).toBe(30);
    expect(retryAfterSeconds(h('Sun, 22 Nov 2026 09:00:00 GMT'), now)).toBe(0);
  });
});
