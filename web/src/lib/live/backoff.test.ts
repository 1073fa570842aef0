import { describe, expect, it } from 'vitest';
import { Backoff, BACKOFF_SECONDS } from './backoff';

describe('Backoff', () => {
  it('waits 3, 6, 12, 24 and then 30 seconds', () => {
    const b = new Backoff();
    expect(BACKOFF_SECONDS).toEqual([3, 6, 12, 24, 30]);
    expect(Array.from({ length: 7 }, () => b.next())).toEqual([3000, 6000, 12000, 24000, 30000, 30000, 30000]);
    expect(b.attempts).toBe(7);
  });

  it('waits for a longer Retry-After, never a shorter one', () => {
    const b = new Backoff();
    expect(b.next(10)).toBe(10_000);   // step 3 s, Retry-After 10 s
    expect(b.next(2)).toBe(6_000);     // step 6 s, Retry-After 2 s
    expect(b.next(null)).toBe(12_000);
    expect(b.next(0)).toBe(24_000);
    expect(b.next(120)).toBe(120_000);
  });

  it('starts over after reset', () => {
    const b = new Backoff();
    b.next(); b.next(); b.next();
    b.reset();
    expect(b.attempts).toBe(0);
    expect(b.next()).toBe(3000);
  });
});
