// Keeps a live connection a little while after the last page that used it has gone, so that
// going from the list to an investigation and back (or back and forth) reuses the open stream or
// socket instead of opening a new one each time: opening one spends the stream budget (30 a
// minute by default), following an open one spends nothing.

export const LINGER_MS = 30_000;

interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

interface Entry<T> { value: T; refs: number; timer: unknown }

export class Lingering<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(
    private readonly create: (key: string) => T,
    private readonly dispose: (value: T) => void,
    private readonly lingerMs = LINGER_MS,
    private readonly timers: Timers = {
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
    },
  ) {}

  /** The value for `key`, made if needed; one nobody acquires goes away after the linger time. */
  get(key: string): T {
    let e = this.entries.get(key);
    if (!e) {
      e = { value: this.create(key), refs: 0, timer: null };
      this.entries.set(key, e);
      this.schedule(key, e);
    }
    return e.value;
  }

  acquire(key: string): T {
    const value = this.get(key);
    const e = this.entries.get(key)!;
    e.refs += 1;
    if (e.timer !== null) this.timers.clearTimeout(e.timer);
    e.timer = null;
    return value;
  }

  release(key: string): void {
    const e = this.entries.get(key);
    if (!e || e.refs === 0) return;
    e.refs -= 1;
    if (e.refs === 0) this.schedule(key, e);
  }

  get size(): number { return this.entries.size; }

  private schedule(key: string, e: Entry<T>): void {
    if (e.timer !== null) this.timers.clearTimeout(e.timer);
    e.timer = this.timers.setTimeout(() => {
      if (this.entries.get(key) !== e || e.refs > 0) return;
      this.entries.delete(key);
      this.dispose(e.value);
    }, this.lingerMs);
  }
}
