import { describe, expect, it } from 'vitest';
import { FakeClock } from '../testing/fakes';
import { Lingering } from './linger';

function setup() {
  const clock = new FakeClock();
  const made: string[] = [];
  const disposed: string[] = [];
  let n = 0;
  const l = new Lingering<string>((key) => { const v = `${key}#${++n}`; made.push(v); return v; },
    (v) => disposed.push(v), 30_000, { setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout });
  return { clock, made, disposed, l };
}

describe('Lingering', () => {
  it('keeps a released value for the linger time, and gives it back to whoever comes within it', async () => {
    const { clock, made, disposed, l } = setup();
    const a = l.acquire('inv_1');
    l.release('inv_1');
    await clock.advance(29_999);
    expect(l.acquire('inv_1')).toBe(a);
    l.release('inv_1');
    await clock.advance(29_999);
    expect(disposed).toEqual([]);
    await clock.advance(1);
    expect(disposed).toEqual([a]);
    expect(l.acquire('inv_1')).not.toBe(a);
    expect(made).toHaveLength(2);
  });

  it('never disposes a value while anyone holds it', async () => {
    const { clock, disposed, l } = setup();
    l.acquire('k');
    l.acquire('k');
    l.release('k');
    await clock.advance(3600_000);
    expect(disposed).toEqual([]);
    l.release('k');
    l.release('k');  // one release too many changes nothing
    await clock.advance(30_000);
    expect(disposed).toEqual(['k#1']);
  });

  it('disposes a value made by get() that nobody acquires', async () => {
    const { clock, disposed, l } = setup();
    l.get('k');
    expect(l.get('k')).toBe('k#1');
    await clock.advance(30_000);
    expect(disposed).toEqual(['k#1']);
    expect(l.size).toBe(0);
  });

  it('keeps values of different keys apart', async () => {
    const { clock, disposed, l } = setup();
    l.acquire('a');
    l.acquire('b');
    l.release('a');
    await clock.advance(30_000);
    expect(disposed).toEqual(['a#1']);
    expect(l.size).toBe(1);
  });
});
