// The view model of one investigation page: the latest snapshot, the live tail of the log and the
// series the charts draw, folded from what the live transport delivers. The same model is fed by
// the feed in the tab that holds the connection, and by BroadcastChannel messages in the others;
// it applies each event at most once (by id), whoever delivers it.
import type { Progress, VigilEvent } from '../../../lib/api/types';
import { isAfter } from '../../../lib/live/cursor';
import type { FollowedModel } from '../../../lib/live/tabs';
import type { ConnectionState } from '../../../lib/live/types';
import { emptyRateFold, foldRate, type RateFold } from './rate';
import { MAX_TAIL, type InvestigationView, type Sample } from './view';

export const MAX_SAMPLES = 2000;

/** What one tab hands another: everything but the connection, which is each tab's own. */
export interface SharedState {
  progress: Progress | null;
  events: VigilEvent[];
  eventCount: number;
  riskHistory: Sample[];
  rateHistory: Sample[];
  rate: RateFold;
  lastEventId: string | null;
  /** Why the leader stopped following, when it did: a later tab must not wait for it. */
  notFound: boolean;
  error: string | null;
}

const empty = (): InvestigationView => ({
  progress: null, events: [], eventCount: 0, riskHistory: [], rateHistory: [],
  connection: 'connecting', role: 'none', retryInSeconds: null, retryAt: null, notFound: false, error: null,
  lastEventId: null,
});

const capped = <T,>(xs: T[], max: number): T[] => (xs.length > max ? xs.slice(xs.length - max) : xs);

export class InvestigationModel implements FollowedModel<SharedState> {
  private view: InvestigationView = empty();
  private readonly listeners = new Set<() => void>();
  private notifyPending = false;
  private rate: RateFold = emptyRateFold();

  /** `schedule` batches notifications (a burst of events renders once); tests pass a sync one. */
  constructor(
    private readonly schedule: (fn: () => void) => void = (fn) => setTimeout(fn, 16),
    private readonly now: () => number = Date.now,
  ) {}

  get current(): InvestigationView { return this.view; }
  get lastEventId(): string | null { return this.view.lastEventId; }

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  getSnapshot = (): InvestigationView => this.view;

  private update(patch: Partial<InvestigationView>): void {
    this.view = { ...this.view, ...patch };
    if (this.notifyPending) return;
    this.notifyPending = true;
    this.schedule(() => {
      this.notifyPending = false;
      for (const fn of this.listeners) fn();
    });
  }

  applySnapshot(p: Progress): void {
    const old = this.view.progress;
    if (old && p.version < old.version) return;
    this.update({ progress: p });
  }

  applyEvents(items: VigilEvent[]): void {
    let last = this.view.lastEventId;
    const fresh: VigilEvent[] = [];
    for (const e of items) {
      if (!isAfter(e.event_id, last)) continue;
      fresh.push(e);
      last = e.event_id;
    }
    if (fresh.length === 0) return;
    let riskHistory = [...this.view.riskHistory];
    let rateHistory = [...this.view.rateHistory];
    const rate: RateFold = { ...this.rate, finishes: [...this.rate.finishes] };
    for (const e of fresh) {
      const t = Date.parse(e.timestamp);
      const r = foldRate(rate, e);
      if (r === null) {
        // A retry starts a new run, with its own risk and rate.
        riskHistory = [];
        rateHistory = [];
        continue;
      }
      if (e.event_type === 'risk_updated' && typeof e.data.overall === 'number') {
        riskHistory.push({ t, v: e.data.overall });
      }
      const prev = rateHistory[rateHistory.length - 1];
      if (prev && prev.t === t) rateHistory[rateHistory.length - 1] = { t, v: r };  // the latest per ms
      else rateHistory.push({ t, v: r });
    }
    this.rate = rate;
    this.update({
      events: capped([...this.view.events, ...fresh], MAX_TAIL),
      eventCount: this.view.eventCount + fresh.length,
      riskHistory: capped(riskHistory, MAX_SAMPLES),
      rateHistory: capped(rateHistory, MAX_SAMPLES),
      lastEventId: last,
    });
  }

  /**
   * Moves the event cursor without events: a stream `reset` continues from its snapshot, even one
   * before the cursor (the server's log no longer has the id this tab resumed from).
   */
  resumeFrom(id: string): void {
    if (id === this.view.lastEventId) return;
    // Going back: what the tail holds after that point comes again, so it leaves the tail now.
    const events = isAfter(id, this.view.lastEventId)
      ? this.view.events
      : this.view.events.filter((e) => !isAfter(e.event_id, id));
    this.update({ lastEventId: id, events });
  }

  setConnection(connection: ConnectionState, retryInSeconds: number | null = null): void {
    // Every wait is a new one, even of the same length: its due time moves.
    if (connection === this.view.connection && retryInSeconds === null && this.view.retryInSeconds === null) return;
    this.update({ connection, retryInSeconds, retryAt: retryInSeconds === null ? null : this.now() + retryInSeconds * 1000 });
  }

  setRole(role: InvestigationView['role']): void {
    if (role !== this.view.role) this.update({ role });
  }

  setNotFound(): void { this.update({ notFound: true, connection: 'ended' }); }
  setError(error: string): void { this.update({ error, connection: 'ended' }); }

  exportState(): SharedState {
    const { progress, events, eventCount, riskHistory, rateHistory, lastEventId, notFound, error } = this.view;
    return { progress, events, eventCount, riskHistory, rateHistory, rate: this.rate, lastEventId, notFound, error };
  }

  /** Takes another tab's state when it is ahead of this one. */
  importState(s: SharedState): boolean {
    if (s.notFound) this.setNotFound();
    else if (s.error !== null) this.setError(s.error);
    if (this.view.lastEventId !== null && (s.lastEventId === null || !isAfter(s.lastEventId, this.view.lastEventId))) {
      if (s.progress && (!this.view.progress || s.progress.version > this.view.progress.version)) {
        this.applySnapshot(s.progress);
      }
      return false;
    }
    const { notFound: _n, error: _e, rate, ...rest } = s;
    this.rate = { runStartMs: rate.runStartMs, finishes: [...rate.finishes] };
    this.update(rest);
    return true;
  }
}
