// The wait before trying again after a failure: 3, 6, 12, 24 and then 30 seconds, never less than
// a Retry-After the server sent. A success starts the schedule over.

export const BACKOFF_SECONDS: readonly number[] = [3, 6, 12, 24, 30];

export class Backoff {
  private failures = 0;

  /** Records a failure and returns the milliseconds to wait before the next attempt. */
  next(retryAfterSeconds: number | null = null): number {
    const step = BACKOFF_SECONDS[Math.min(this.failures, BACKOFF_SECONDS.length - 1)];
    this.failures += 1;
    return Math.max(step, retryAfterSeconds ?? 0) * 1000;
  }

  reset(): void { this.failures = 0; }

  get attempts(): number { return this.failures; }
}
