import { describe, expect, it } from 'vitest';
import { chooseInterval, FALLBACK_POLL_MS, MAX_POLL_MS, MIN_POLL_MS } from './interval';

describe('chooseInterval', () => {
  it('takes the X-Recommended-Interval header, in milliseconds', () => {
    expect(chooseInterval('1000')).toBe(1000);
    expect(chooseInterval('5000', null)).toBe(5000);
    expect(chooseInterval(' 2500 ')).toBe(2500);
  });

  it('prefers the header to poll_after_seconds', () => {
    expect(chooseInterval('1000', 5)).toBe(1000);
    expect(chooseInterval('5000', 1)).toBe(5000);
  });

  it('takes poll_after_seconds when there is no header', () => {
    expect(chooseInterval(null, 5)).toBe(5000);
    expect(chooseInterval(null, 1)).toBe(1000);
  });

  it.each(['abc', '', '-5', '1e3', '10.5', '1000ms', '1234567890'])(
    'falls back to the body when the header %j is malformed', (h) => {
      expect(chooseInterval(h, 2)).toBe(2000);
    });

  it('falls back to FALLBACK_POLL_MS when the header is malformed and the body has no hint', () => {
    expect(chooseInterval('soon', null)).toBe(FALLBACK_POLL_MS);
    expect(chooseInterval('soon')).toBe(FALLBACK_POLL_MS);
    expect(chooseInterval('soon', Number.NaN)).toBe(FALLBACK_POLL_MS);
    expect(chooseInterval('soon', -1)).toBe(FALLBACK_POLL_MS);
  });

  it('says stop (null) when neither the header nor the body has an interval', () => {
    expect(chooseInterval(null)).toBeNull();
    expect(chooseInterval(null, null)).toBeNull();
    expect(chooseInterval(null, undefined)).toBeNull();
  });

  it('ignores a body hint that is not a usable number', () => {
    expect(chooseInterval(null, Number.POSITIVE_INFINITY)).toBeNull();
    expect(chooseInterval(null, -3)).toBeNull();
  });

  it('clamps to MIN_POLL_MS and MAX_POLL_MS', () => {
    expect(chooseInterval('0')).toBe(MIN_POLL_MS);
    expect(chooseInterval('10')).toBe(MIN_POLL_MS);
    expect(chooseInterval('999999999')).toBe(MAX_POLL_MS);
    expect(chooseInterval(null, 0)).toBe(MIN_POLL_MS);
    expect(chooseInterval(null, 3600)).toBe(MAX_POLL_MS);
    expect(chooseInterval(String(MAX_POLL_MS))).toBe(MAX_POLL_MS);
    expect(chooseInterval(String(MIN_POLL_MS))).toBe(MIN_POLL_MS);
  });
});
