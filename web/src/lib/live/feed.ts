// The connection of one tab to one investigation: Server-Sent Events first, polling while the
// stream does not work, and nothing at all once the investigation is over.
//
//   connecting ──open──▶ live ──error──▶ polling ──stream opens again──▶ live
//        │                 │               │  ▲
//        └──error──▶ polling               ▼  │ a poll succeeds
//                          │          reconnecting (3, 6, 12, 24, 30 s; Retry-After)
//   any ──end / terminal answer──▶ ended          any ──offline──▶ offline ──online──▶ connecting
//
// Every event is accepted once: only ids after the last accepted one pass (ids are cursors,
// strictly increasing per investigation), and every (re)connection resumes from that id. So
// switching between the stream and polling, in either direction, loses and repeats nothing.
//
// Everything the feed touches in the browser comes in through FeedDeps, so the state machine is
// tested on its own (feed.test.ts) with fake streams, fetches and timers.
import type { Progress, VigilEvent } from '../api/types';
import { isTerminal } from '../api/types';
import { retryAfterSeconds } from '../api/retryAfter';
import { Backoff } from './backoff';
import { isAfter, START } from './cursor';
import { chooseInterval } from './interval';
import type { ConnectionState } from './types';

/** The part of EventSource the feed uses. */
export interface StreamLike {
  addEventListener(type: string, listener: (ev: Event) => void): void;
  close(): void;
}

/** The part of fetch's Response the feed uses. */
export interface ResponseLike {
  status: number;
  headers: { get(name: string): string | null };
  json(): Promise<unknown>;
}

export interface FeedDeps {
  openStream(url: string): StreamLike;
  fetch(url: string, init: { headers: Record<string, string>; signal: AbortSignal }): Promise<ResponseLike>;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  isOnline(): boolean;
  /** Calls back when the browser goes on- or offline; returns the unsubscribe. */
  onOnlineChange(fn: (online: boolean) => void): () => void;
}

export interface FeedSink {
  snapshot(p: Progress): void;
  /** New events, in log order, each exactly once. */
  events(items: VigilEvent[]): void;
  /** The resume point moved without events: a `reset` goes on from its snapshot. */
  resumedFrom(eventId: string): void;
  connection(state: ConnectionState, retryInSeconds: number | null): void;
  /** The feed stopped for good: the investigation is not there (404) or the session ended (401). */
  stopped(reason: 'not_found' | 'unauthorized'): void;
}

/** The domain event types (docs/api.md §5.2): the SSE `event:` names of log entries. */
export const EVENT_TYPES = [
  'investigation_created', 'status_change', 'phase_change', 'tool_queued', 'tool_started',
  'tool_complete', 'tool_error', 'tool_skipped', 'risk_updated', 'entity_discovered',
  'relationship_discovered', 'error_logged',
] as const;

/** A stream that has sent nothing for this long (heartbeats come every 30 s) is dead. */
export const STREAM_SILENCE_MS = 75_000;
/**
 * A stream that has neither opened nor failed after this long (a proxy that holds the request)
 * counts as failed, so polling starts within 5 s whatever way the stream fails.
 */
export const STREAM_OPEN_TIMEOUT_MS = 5_000;
/** /events page size while polling. */
export const POLL_PAGE = 1000;

class HttpError extends Error {
  constructor(readonly status: number, readonly retryAfter: number | null) {
    super(`HTTP ${status}`);
  }
}

const parse = (ev: Event): unknown => JSON.parse((ev as MessageEvent<string>).data);

export class Feed {
  private last: string | null;
  private version = -1;
  private state: ConnectionState = 'connecting';
  private done = false;
  private stream: StreamLike | null = null;
  private polling = false;
  private pollAbort: AbortController | null = null;
  private pollTimer: unknown = null;
  private streamTimer: unknown = null;
  private silenceTimer: unknown = null;
  private readonly streamBackoff = new Backoff();
  private readonly pollBackoff = new Backoff();
  private eventsTag: { since: string | null; etag: string } | null = null;
  private resyncing = false;
  private progressTag: string | null = null;
  private unsubscribeOnline: (() => void) | null = null;

  constructor(
    private readonly investigationId: string,
    private readonly deps: FeedDeps,
    private readonly sink: FeedSink,
    /** Resume after this event id (null: the whole log). */
    startAfter: string | null = null,
  ) {
    this.last = startAfter;
  }

  get lastEventId(): string | null { return this.last; }
  get connection(): ConnectionState { return this.state; }

  start(): void {
    this.unsubscribeOnline = this.deps.onOnlineChange((online) => this.onlineChanged(online));
    if (!this.deps.isOnline()) {
      this.setState('offline');
    } else {
      // Said out loud: the sink may show another state until now (a tab that took over from the
      // leader shows 'following', a restart after the end shows 'ended').
      this.setState('connecting');
      this.openStream();
    }
  }

  /** Stops every request and timer, for good. */
  stop(): void {
    this.done = true;
    this.closeStream();
    this.stopPolling();
    this.clear('streamTimer');
    this.unsubscribeOnline?.();
    this.unsubscribeOnline = null;
  }

  private get base(): string {
    return `/api/v1/investigations/${encodeURIComponent(this.investigationId)}`;
  }

  private setState(state: ConnectionState, retryInSeconds: number | null = null): void {
    this.state = state;
    this.sink.connection(state, retryInSeconds);
  }

  private clear(timer: 'pollTimer' | 'streamTimer' | 'silenceTimer'): void {
    if (this[timer] !== null) this.deps.clearTimeout(this[timer]);
    this[timer] = null;
  }

  // ---- what both transports deliver

  private accept(items: VigilEvent[]): void {
    const fresh: VigilEvent[] = [];
    for (const e of items) {
      if (isAfter(e.event_id, this.last)) {
        fresh.push(e);
        this.last = e.event_id;
      }
    }
    if (fresh.length > 0) this.sink.events(fresh);
  }

  private snapshot(p: Progress, resumeFromIt: boolean): void {
    if (resumeFromIt && isAfter(p.last_event_id, this.last)) {
      this.last = p.last_event_id;
      this.sink.resumedFrom(p.last_event_id);
    }
    if (p.version < this.version) return;
    this.version = p.version;
    this.sink.snapshot(p);
  }

  /** The investigation is over: no more requests. */
  private end(): void {
    if (this.done) return;
    this.stop();
    this.setState('ended');
  }

  private fail(reason: 'not_found' | 'unauthorized'): void {
    if (this.done) return;
    this.stop();
    this.sink.stopped(reason);
  }

  // ---- Server-Sent Events

  private openStream(): void {
    if (this.done) return;
    this.clear('streamTimer');
    this.closeStream();
    const url = `${this.base}/runs/current/stream?last_event_id=${encodeURIComponent(this.last ?? START)}`;
    const es = this.deps.openStream(url);
    this.stream = es;
    const mine = (fn: (ev: Event) => void) => (ev: Event) => {
      if (this.stream !== es || this.done) return;
      this.armSilence(STREAM_SILENCE_MS);
      fn(ev);
    };
    es.addEventListener('open', mine(() => {
      this.streamBackoff.reset();
      this.stopPolling();
      this.setState('live');
    }));
    for (const type of EVENT_TYPES) {
      es.addEventListener(type, mine((ev) => this.accept([parse(ev) as VigilEvent])));
    }
    es.addEventListener('snapshot', mine((ev) => this.snapshot(parse(ev) as Progress, true)));
    es.addEventListener('progress', mine((ev) => this.snapshot(parse(ev) as Progress, false)));
    es.addEventListener('reset', mine((ev) => {
      const { progress } = parse(ev) as { progress: Progress };
      this.last = null;  // the old id is unusable; go on from the snapshot the stream sends
      this.snapshot(progress, true);
    }));
    // Frames that carry nothing to apply still show the stream is alive (a quiet investigation
    // sends only heartbeats): without a listener they would not re-arm the silence watch.
    for (const type of ['heartbeat', 'caught_up']) es.addEventListener(type, mine(() => {}));
    es.addEventListener('end', mine(() => this.end()));
    es.addEventListener('reconnect', mine(() => this.openStream()));
    // `error` is both EventSource's connection error (a plain Event) and vigil's `error` frame
    // (a MessageEvent with data): either way this stream is over, and polling will tell why.
    es.addEventListener('error', mine(() => this.streamFailed()));
    this.armSilence(STREAM_OPEN_TIMEOUT_MS);
  }

  private closeStream(): void {
    this.clear('silenceTimer');
    if (this.stream) this.stream.close();
    this.stream = null;
  }

  private armSilence(ms: number): void {
    this.clear('silenceTimer');
    this.silenceTimer = this.deps.setTimeout(() => this.streamFailed(), ms);
  }

  /** The stream could not open or broke: poll now, and try the stream again later. */
  private streamFailed(): void {
    if (this.done) return;
    this.closeStream();
    this.streamTimer = this.deps.setTimeout(() => this.openStream(), this.streamBackoff.next());
    if (!this.polling) {
      this.polling = true;
      this.setState('polling');
      void this.poll();
    }
  }

  // ---- polling

  private stopPolling(): void {
    this.polling = false;
    this.clear('pollTimer');
    this.pollAbort?.abort();
    this.pollAbort = null;
  }

  private async get(url: string, etag: string | null, signal: AbortSignal): Promise<ResponseLike> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (etag) headers['If-None-Match'] = etag;
    const res = await this.deps.fetch(url, { headers, signal });
    if (res.status !== 200 && res.status !== 304) throw new HttpError(res.status, retryAfterSeconds(res.headers));
    return res;
  }

  private async poll(): Promise<void> {
    if (this.done || !this.polling) return;
    const abort = new AbortController();
    this.pollAbort = abort;
    const signal = abort.signal;
    try {
      // The log first, a page at a time up to the head; then the snapshot if anything changed.
      let changed = false;
      let interval: number | null;
      for (;;) {
        const since = this.last;
        const etag = this.eventsTag && this.eventsTag.since === since ? this.eventsTag.etag : null;
        const q = `limit=${POLL_PAGE}${since ? `&since=${encodeURIComponent(since)}` : ''}`;
        const res = await this.get(`${this.base}/events?${q}`, etag, signal);
        if (signal.aborted) return;
        if (res.status === 304) {
          interval = chooseInterval(res.headers.get('X-Recommended-Interval'), null);
          break;
        }
        const page = (await res.json()) as { items: VigilEvent[]; has_more: boolean; poll_after_seconds: number | null; etag: string };
        if (signal.aborted) return;
        this.eventsTag = { since, etag: page.etag };
        this.accept(page.items);
        changed ||= page.items.length > 0;
        interval = chooseInterval(res.headers.get('X-Recommended-Interval'), page.poll_after_seconds);
        if (!page.has_more) break;
      }
      if (changed || this.version < 0 || interval === null) {
        const res = await this.get(`${this.base}/progress`, this.progressTag, signal);
        if (signal.aborted) return;
        if (res.status === 200) {
          const p = (await res.json()) as Progress;
          if (signal.aborted) return;
          this.progressTag = res.headers.get('ETag');
          this.snapshot(p, false);
          if (isTerminal(p.state)) interval = null;
        }
      }
      this.pollBackoff.reset();
      if (interval === null) {
        this.end();
        return;
      }
      if (this.state !== 'polling') this.setState('polling');
      this.pollTimer = this.deps.setTimeout(() => void this.poll(), interval);
    } catch (err) {
      if (signal.aborted || this.done) return;
      if (err instanceof HttpError && err.status === 404) return this.fail('not_found');
      if (err instanceof HttpError && (err.status === 401 || err.status === 403)) return this.fail('unauthorized');
      if (err instanceof HttpError && err.status === 400 && !this.resyncing) {
        // The cursor is refused (older than the server keeps cursors): go on from the snapshot.
        this.resyncing = true;
        this.pollTimer = this.deps.setTimeout(() => void this.resync(), 0);
        return;
      }
      const wait = this.pollBackoff.next(err instanceof HttpError ? err.retryAfter : null);
      this.setState('reconnecting', wait / 1000);
      this.pollTimer = this.deps.setTimeout(() => void this.poll(), wait);
    } finally {
      if (this.pollAbort === abort) this.pollAbort = null;
    }
  }

  /** Moves the resume point to the snapshot's newest event, then polls on from there. */
  private async resync(): Promise<void> {
    if (this.done || !this.polling) return;
    const abort = new AbortController();
    this.pollAbort = abort;
    try {
      const res = await this.get(`${this.base}/progress`, null, abort.signal);
      const p = (await res.json()) as Progress;
      if (abort.signal.aborted) return;
      this.progressTag = res.headers.get('ETag');
      this.eventsTag = null;
      this.snapshot(p, true);
    } catch {
      if (abort.signal.aborted || this.done) return;
    } finally {
      if (this.pollAbort === abort) this.pollAbort = null;
    }
    this.resyncing = false;
    void this.poll();
  }

  // ---- the browser's network

  private onlineChanged(online: boolean): void {
    if (this.done) return;
    if (!online) {
      this.closeStream();
      this.stopPolling();
      this.clear('streamTimer');
      this.setState('offline');
    } else if (this.state === 'offline') {
      this.streamBackoff.reset();
      this.pollBackoff.reset();
      this.setState('connecting');
      this.openStream();
    }
  }
}

/** The browser's implementations of FeedDeps. */
export function browserFeedDeps(): FeedDeps {
  return {
    openStream: (url) => new EventSource(url, { withCredentials: true }),
    fetch: (url, init) => fetch(url, { ...init, credentials: 'same-origin' }),
    setTimeout: (fn, ms) => window.setTimeout(fn, ms),
    clearTimeout: (h) => window.clearTimeout(h as number),
    isOnline: () => navigator.onLine,
    onOnlineChange: (fn) => {
      const on = () => fn(true);
      const off = () => fn(false);
      window.addEventListener('online', on);
      window.addEventListener('offline', off);
      return () => {
        window.removeEventListener('online', on);
        window.removeEventListener('offline', off);
      };
    },
  };
}
