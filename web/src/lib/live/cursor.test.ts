import { describe, expect, it } from 'vitest';
import { compareCursors, isAfter, parseCursor, START } from './cursor';

describe('parseCursor', () => {
  it('reads the timestamp and the sequence', () => {
    expect(parseCursor('1795320020486_000003')).toEqual([1795320020486, 3]);
    expect(parseCursor(START)).toEqual([0, 0]);
    expect(parseCursor('999999999999999_999999')).toEqual([999999999999999, 999999]);
  });

  it.each([
    '', '_000001', '12_', '12_00001', '12_0000001', '012_000001', '-1_000001', '+1_000001',
    ' 12_000001', '12_000001 ', '12-000001', '1.5_000001', '1000000000000000_000000', 'abc_000000',
  ])('refuses the malformed id %j', (id) => {
    expect(parseCursor(id)).toBeNull();
  });
});

describe('compareCursors', () => {
  it('orders numerically on the timestamp, not as text', () => {
    expect(compareCursors('999_000001', '1000_000000')).toBeLessThan(0);
    expect(compareCursors('1000_000000', '999_000001')).toBeGreaterThan(0);
    expect(compareCursors('9_000000', '10_000000')).toBeLessThan(0);
  });

  it('orders on the sequence within one millisecond', () => {
    expect(compareCursors('1000_000002', '1000_000010')).toBeLessThan(0);
    expect(compareCursors('1000_000010', '1000_000002')).toBeGreaterThan(0);
    expect(compareCursors('1000_000002', '1000_000002')).toBe(0);
  });

  it('puts the start before every id', () => {
    expect(compareCursors(START, '1_000000')).toBeLessThan(0);
    expect(compareCursors(START, '0_000001')).toBeLessThan(0);
  });

  it('sorts malformed ids first, and equal to each other', () => {
    expect(compareCursors('garbage', START)).toBeLessThan(0);
    expect(compareCursors(START, 'garbage')).toBeGreaterThan(0);
    expect(compareCursors('garbage', 'other')).toBe(0);
  });

  it('sorts a list of ids in log order', () => {
    const ids = ['1000_000000', '999_000001', '999_000000', '10000_000000', '1000_000001'];
    expect([...ids].sort(compareCursors)).toEqual(['999_000000', '999_000001', '1000_000000', '1000_000001', '10000_000000']);
  });
});

describe('isAfter', () => {
  it('holds only for a later id', () => {
    expect(isAfter('1000_000001', '1000_000000')).toBe(true);
    expect(isAfter('1000_000000', '1000_000000')).toBe(false);
    expect(isAfter('999_000001', '1000_000000')).toBe(false);
  });

  it('holds for everything after nothing (null)', () => {
    expect(isAfter('1000_000000', null)).toBe(true);
    expect(isAfter(START, null)).toBe(true);
  });

  it('never lets a malformed id pass a real cursor', () => {
    expect(isAfter('not-an-id', '1000_000000')).toBe(false);
    expect(isAfter('not-an-id', START)).toBe(false);
    expect(isAfter('1000_000000', 'not-an-id')).toBe(true);
  });
});
