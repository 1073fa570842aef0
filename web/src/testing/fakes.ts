// Fakes for the unit tests (*.test.ts) of the live transport and the view model: a clock, wire
// data, EventSource streams, fetch with scripted answers, the browser's network, Web Locks,
// BroadcastChannel and WebSocket. Only tests import this folder (.dependency-cruiser.cjs holds the
// app to that), so the build never bundles it: Vite follows the imports from main.tsx. tsc still
// type-checks it with the rest of src/.
import type { Progress, VigilEvent } from '../lib/api/types';
import type { FeedDeps, FeedSink, ResponseLike, StreamLike } from '../lib/live/feed';
import type { SocketLike } from '../lib/live/listSocket';
import type { ChannelLike, LocksLike } from '../lib/live/tabs';
import type { ConnectionState } from '../lib/live/types';

// ---- promises and time

const setImmediateFn = (globalThis as unknown as { setImmediate(fn: () => void): unknown }).setImmediate;

/** Lets every pending promise callback run (a macrotask runs only once the microtasks are done). */
export async function flush(rounds = 2): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => { setImmediateFn(resolve); });
}

interface Timer { id: number; at: number; fn: () => void }

/** A clock whose timers fire only when the test advances it. */
export class FakeClock {
  now = 0;
  private seq = 0;
  private readonly timers = new Map<number, Timer>();

  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = ++this.seq;
    this.timers.set(id, { id, at: this.now + Math.max(0, ms), fn });
    return id;
  };

  clearTimeout = (handle: unknown): void => { this.timers.delete(handle as number); };

  /** How many timers are waiting. */
  get pending(): number { return this.timers.size; }

  /** The delays (from now) of the waiting timers, soonest first. */
  delays(): number[] { return [...this.timers.values()].map((t) => t.at - this.now).sort((a, b) => a - b); }

  /** Moves time on by `ms`, firing due timers in order and letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      await flush();
      let next: Timer | null = null;
      for (const t of this.timers.values()) {
        if (t.at <= end && (!next || t.at < next.at || (t.at === next.at && t.id < next.id))) next = t;
      }
      if (!next) break;
      this.timers.delete(next.id);
      this.now = next.at;
      next.fn();
    }
    this.now = end;
    await flush();
  }
}

// ---- wire data

/** An event id: one millisecond, sequence `n` (so ids order as their n). */
export const eid = (n: number): string => `1795320020486_${String(n).padStart(6, '0')}`;

export function makeEvent(n: number, eventType = 'tool_started', data: Record<string, unknown> = {}): VigilEvent {
  return {
    event_id: eid(n), investigation_id: 'inv_1', run_id: 'run_1', event_type: eventType,
    actor: 'network_agent', timestamp: new Date(1795320020486 + n * 1000).toISOString(), data,
  };
}

export const makeEvents = (from: number, to: number): VigilEvent[] =>
  Array.from({ length: to - from + 1 }, (_, i) => makeEvent(from + i));

export function makeProgress(over: Partial<Progress> = {}): Progress {
  return {
    id: 'inv_1', investigation_id: 'inv_1', run_id: 'run_1', status: 'running', lifecycle_stage: 'active',
    state: 'running', completion_percent: 10, created_at: '2026-11-22T04:00:00.000Z',
    started_at: '2026-11-22T04:00:01.000Z', completed_at: null, last_updated_at: '2026-11-22T04:00:10.000Z',
    tool_executions: [], total_tools: 4, completed_tools: 1, running_tools: 1, queued_tools: 2,
    failed_tools: 0, skipped_tools: 0, agent_statuses: [],
    risk_metrics: { overall: 0.1, confidence: 0.5, last_calculated: null, by_agent: {} },
    phases: [], current_phase: null, entities: [], relationships: [], tools_per_second: 0.5,
    peak_tools_per_second: 0.5, ice_connected: false, errors: [], version: 1, last_event_id: eid(0),
    ...over,
  };
}

// ---- EventSource

/** One EventSource the feed opened; the test plays the server. A closed stream dispatches nothing. */
export class FakeStream implements StreamLike {
  closed = false;
  private readonly listeners = new Map<string, ((ev: Event) => void)[]>();

  constructor(readonly url: string) {}

  /** The `last_event_id` query parameter the stream was opened with. */
  get lastEventIdParam(): string | null {
    return new URL(this.url, 'http://vigil.test').searchParams.get('last_event_id');
  }

  addEventListener(type: string, listener: (ev: Event) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  close(): void { this.closed = true; }

  private dispatch(type: string, ev: object): void {
    if (this.closed) return;
    for (const l of this.listeners.get(type) ?? []) l(ev as Event);
  }

  open(): void { this.dispatch('open', { type: 'open' }); }

  /** EventSource's connection error (a plain Event, no data). */
  fail(): void { this.dispatch('error', { type: 'error' }); }

  /** A frame `event: type`, `data: JSON`, and `id:` when given. */
  frame(type: string, data: unknown, id = ''): void {
    this.dispatch(type, { type, data: JSON.stringify(data), lastEventId: id });
  }

  /** Domain events, each as the frame of its type with its id. */
  send(...events: VigilEvent[]): void {
    for (const e of events) this.frame(e.event_type, e, e.event_id);
  }
}

export class FakeStreams {
  readonly opened: FakeStream[] = [];

  open = (url: string): FakeStream => {
    const s = new FakeStream(url);
    this.opened.push(s);
    return s;
  };

  get last(): FakeStream {
    const s = this.opened[this.opened.length - 1];
    if (!s) throw new Error('no stream was opened');
    return s;
  }

  get openCount(): number { return this.opened.filter((s) => !s.closed).length; }
}

// ---- fetch

export interface Reply {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

function headersOf(h: Record<string, string>): ResponseLike['headers'] {
  const lower = new Map(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
  return { get: (name: string) => lower.get(name.toLowerCase()) ?? null };
}

const abortError = () => new DOMException('The operation was aborted.', 'AbortError');

/** One request; it stays pending until the test (or a script) answers it. */
export class FetchCall {
  readonly path: string;
  readonly query: URLSearchParams;
  settled = false;
  private resolve!: (r: ResponseLike) => void;
  private reject!: (e: unknown) => void;
  readonly promise: Promise<ResponseLike>;

  constructor(
    readonly url: string,
    readonly headers: Record<string, string>,
    readonly signal: AbortSignal,
    readonly at: number,
  ) {
    const u = new URL(url, 'http://vigil.test');
    this.path = u.pathname;
    this.query = u.searchParams;
    this.promise = new Promise<ResponseLike>((resolve, reject) => { this.resolve = resolve; this.reject = reject; });
    if (signal.aborted) this.fail(abortError());
    else signal.addEventListener('abort', () => this.fail(abortError()));
  }

  /** `events` or `progress`: the last path segment. */
  get kind(): string { return this.path.slice(this.path.lastIndexOf('/') + 1); }

  get aborted(): boolean { return this.signal.aborted; }

  respond(reply: Reply): void {
    if (this.settled) return;
    this.settled = true;
    const body = reply.body;
    this.resolve({
      status: reply.status ?? 200,
      headers: headersOf(reply.headers ?? {}),
      json: () => (body === undefined ? Promise.reject(new SyntaxError('no body')) : Promise.resolve(structuredClone(body))),
    });
  }

  fail(err: unknown = new TypeError('Failed to fetch')): void {
    if (this.settled) return;
    this.settled = true;
    this.reject(err);
  }
}

type Script = Reply | Error | ((call: FetchCall) => Reply | Error | undefined);

/**
 * fetch with a call log. Answers come from per-endpoint queues (`script`, used once each, in
 * order), then from `fallback`; a request nothing answers stays pending for the test to settle.
 */
export class FakeFetch {
  readonly calls: FetchCall[] = [];
  private readonly scripts = new Map<string, Script[]>();
  fallback: ((call: FetchCall) => Reply | Error | undefined) | null = null;

  constructor(private readonly clock: { now: number } = { now: 0 }) {}

  /** Queues answers for the endpoint `kind` (`events` or `progress`). */
  script(kind: string, ...replies: Script[]): this {
    this.scripts.set(kind, [...(this.scripts.get(kind) ?? []), ...replies]);
    return this;
  }

  fetch = (url: string, init: { headers: Record<string, string>; signal: AbortSignal }): Promise<ResponseLike> => {
    const call = new FetchCall(url, { ...init.headers }, init.signal, this.clock.now);
    this.calls.push(call);
    const queue = this.scripts.get(call.kind);
    const s = queue && queue.length > 0 ? queue.shift() : this.fallback ?? undefined;
    const answer = typeof s === 'function' ? s(call) : s;
    if (answer instanceof Error) call.fail(answer);
    else if (answer) call.respond(answer);
    return call.promise;
  };

  of(kind: string): FetchCall[] { return this.calls.filter((c) => c.kind === kind); }

  get pendingCalls(): FetchCall[] { return this.calls.filter((c) => !c.settled); }

  get last(): FetchCall {
    const c = this.calls[this.calls.length - 1];
    if (!c) throw new Error('no request was made');
    return c;
  }
}

/** A /events answer (200): `interval` is the X-Recommended-Interval header (null: none). */
export function eventsPage(items: VigilEvent[], opts: {
  hasMore?: boolean; pollAfter?: number | null; etag?: string; interval?: string | null;
} = {}): Reply {
  const etag = opts.etag ?? `"e${items.length}-0000aaaa"`;
  const interval = opts.interval === undefined ? '1000' : opts.interval;
  const headers: Record<string, string> = { ETag: etag };
  if (interval !== null) headers['X-Recommended-Interval'] = interval;
  return {
    status: 200,
    headers,
    body: {
      items,
      next_cursor: items.length > 0 ? items[items.length - 1].event_id : null,
      has_more: opts.hasMore ?? false,
      poll_after_seconds: opts.pollAfter === undefined ? (interval === null ? null : 1) : opts.pollAfter,
      etag,
    },
  };
}

/** A /events page of a terminal investigation: no interval anywhere. */
export const terminalPage = (items: VigilEvent[], etag?: string): Reply =>
  eventsPage(items, { interval: null, pollAfter: null, etag });

export function notModified(interval: string | null = '1000', etag = '"e-304"'): Reply {
  const headers: Record<string, string> = { ETag: etag };
  if (interval !== null) headers['X-Recommended-Interval'] = interval;
  return { status: 304, headers };
}

export function progressReply(p: Progress, opts: { etag?: string; interval?: string | null } = {}): Reply {
  const headers: Record<string, string> = { ETag: opts.etag ?? `"${p.version}-0000bbbb"` };
  const interval = opts.interval === undefined ? '1000' : opts.interval;
  if (interval !== null) headers['X-Recommended-Interval'] = interval;
  return { status: 200, headers, body: p };
}

export const errorReply = (status: number, retryAfter?: string): Reply => ({
  status,
  headers: retryAfter === undefined ? {} : { 'Retry-After': retryAfter },
  body: { type: 'about:blank', title: 'error', status, detail: 'error' },
});

// ---- the browser's network

export class FakeNetwork {
  private readonly listeners = new Set<(online: boolean) => void>();
  constructor(public online = true) {}

  isOnline = (): boolean => this.online;

  onOnlineChange = (fn: (online: boolean) => void): (() => void) => {
    this.listeners.add(fn);
    return () => { this.listeners.delete(fn); };
  };

  get listenerCount(): number { return this.listeners.size; }

  set(online: boolean): void {
    this.online = online;
    for (const fn of [...this.listeners]) fn(online);
  }
}

/** Everything a Feed touches, faked and shared (tabs of one browser share them too). */
export class FakeBrowser {
  readonly clock = new FakeClock();
  readonly streams = new FakeStreams();
  readonly http = new FakeFetch(this.clock);
  readonly network: FakeNetwork;

  constructor(online = true) { this.network = new FakeNetwork(online); }

  get deps(): FeedDeps {
    return {
      openStream: this.streams.open,
      fetch: this.http.fetch,
      setTimeout: this.clock.setTimeout,
      clearTimeout: this.clock.clearTimeout,
      isOnline: this.network.isOnline,
      onOnlineChange: this.network.onOnlineChange,
    };
  }

  /** How many requests (streams opened and fetches) were made so far. */
  get requests(): number { return this.streams.opened.length + this.http.calls.length; }
}

/** A FeedSink that records what it is told. */
export class RecordingSink implements FeedSink {
  readonly snapshots: Progress[] = [];
  readonly batches: VigilEvent[][] = [];
  readonly resumed: string[] = [];
  readonly connections: [ConnectionState, number | null][] = [];
  readonly stops: ('not_found' | 'unauthorized')[] = [];

  snapshot(p: Progress): void { this.snapshots.push(p); }
  events(items: VigilEvent[]): void { this.batches.push([...items]); }
  resumedFrom(eventId: string): void { this.resumed.push(eventId); }
  connection(state: ConnectionState, retryInSeconds: number | null): void { this.connections.push([state, retryInSeconds]); }
  stopped(reason: 'not_found' | 'unauthorized'): void { this.stops.push(reason); }

  get eventIds(): string[] { return this.batches.flat().map((e) => e.event_id); }
  get states(): ConnectionState[] { return this.connections.map(([s]) => s); }
  get state(): ConnectionState | undefined { return this.connections[this.connections.length - 1]?.[0]; }
}

// ---- Web Locks

interface Waiter {
  callback: (lock: unknown) => Promise<void>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  signal?: AbortSignal;
}

/**
 * navigator.locks, exclusive only: one holder per name, the others wait in line (FIFO); a waiting
 * request whose signal aborts leaves the line and rejects; the lock is granted asynchronously and
 * released when the callback's promise settles.
 */
export class FakeLocks implements LocksLike {
  private readonly held = new Set<string>();
  private readonly lines = new Map<string, Waiter[]>();
  /** Every grant, in order: the name. */
  readonly grants: string[] = [];

  request(name: string, options: { mode: 'exclusive'; signal?: AbortSignal },
    callback: (lock: unknown) => Promise<void>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const signal = options.signal;
      if (signal?.aborted) { reject(abortError()); return; }
      const waiter: Waiter = { callback, resolve, reject, signal };
      const line = this.lines.get(name) ?? [];
      this.lines.set(name, line);
      line.push(waiter);
      signal?.addEventListener('abort', () => {
        const i = line.indexOf(waiter);
        if (i >= 0) { line.splice(i, 1); reject(abortError()); }
      });
      this.pump(name);
    });
  }

  isHeld(name: string): boolean { return this.held.has(name); }
  waiting(name: string): number { return this.lines.get(name)?.length ?? 0; }

  private pump(name: string): void {
    const line = this.lines.get(name);
    if (this.held.has(name) || !line || line.length === 0) return;
    const w = line.shift()!;
    this.held.add(name);
    this.grants.push(name);
    queueMicrotask(() => {
      let p: Promise<void>;
      try { p = Promise.resolve(w.callback({ name, mode: 'exclusive' })); } catch (e) { p = Promise.reject(e); }
      const release = () => { this.held.delete(name); this.pump(name); };
      p.then((v) => { release(); w.resolve(v); }, (e) => { release(); w.reject(e); });
    });
  }
}

// ---- BroadcastChannel

export class FakeChannel implements ChannelLike {
  closed = false;
  private readonly listeners: ((ev: MessageEvent) => void)[] = [];
  /** What this channel posted, in order. */
  readonly posted: unknown[] = [];

  constructor(private readonly hub: FakeChannelHub, readonly name: string) {}

  postMessage(message: unknown): void {
    if (this.closed) throw new DOMException('BroadcastChannel is closed', 'InvalidStateError');
    this.posted.push(message);
    this.hub.broadcast(this, message);
  }

  addEventListener(_type: 'message', listener: (ev: MessageEvent) => void): void {
    this.listeners.push(listener);
  }

  close(): void {
    this.closed = true;
    this.hub.detach(this);
  }

  receive(data: unknown): void {
    if (this.closed) return;
    for (const l of this.listeners) l({ data } as MessageEvent);
  }
}

/**
 * The browser's BroadcastChannels: a message goes, asynchronously and in order, as a copy, to every
 * other open channel of the same name. A closed channel gets nothing more.
 */
export class FakeChannelHub {
  private readonly channels = new Set<FakeChannel>();
  private held: (() => void)[] | null = null;

  /** Holds every message back (they stay in order) until resume(). */
  pause(): void { this.held ??= []; }

  resume(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const deliver of held) queueMicrotask(deliver);
  }

  channel = (name: string): FakeChannel => {
    const c = new FakeChannel(this, name);
    this.channels.add(c);
    return c;
  };

  broadcast(from: FakeChannel, message: unknown): void {
    for (const c of this.channels) {
      if (c === from || c.name !== from.name) continue;
      const copy = structuredClone(message);
      const deliver = () => c.receive(copy);
      if (this.held) this.held.push(deliver);
      else queueMicrotask(deliver);
    }
  }

  detach(c: FakeChannel): void { this.channels.delete(c); }
}

// ---- WebSocket

export class FakeSocket implements SocketLike {
  readyState = 0;
  /** What the client sent, parsed. */
  readonly sent: Record<string, unknown>[] = [];
  private readonly listeners = new Map<string, ((ev: Event) => void)[]>();

  constructor(readonly url: string) {}

  addEventListener(type: 'open' | 'close' | 'error' | 'message', listener: (ev: Event) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new DOMException('not open', 'InvalidStateError');
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }

  /** Closing fires `close` later, as a browser does. */
  close(): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    queueMicrotask(() => this.dispatch('close', { type: 'close', code: 1000 }));
  }

  private dispatch(type: string, ev: object): void {
    for (const l of this.listeners.get(type) ?? []) l(ev as Event);
  }

  open(): void {
    this.readyState = 1;
    this.dispatch('open', { type: 'open' });
  }

  /** A server message. */
  receive(message: unknown): void { this.dispatch('message', { type: 'message', data: JSON.stringify(message) }); }

  /** The connection drops (error, then close). */
  drop(): void {
    this.readyState = 3;
    this.dispatch('error', { type: 'error' });
    this.dispatch('close', { type: 'close', code: 1006 });
  }

  sentOfType(type: string): string[] {
    return this.sent.filter((m) => m.type === type).map((m) => m.investigation_id as string);
  }
}

export class FakeSockets {
  readonly opened: FakeSocket[] = [];

  open = (url: string): FakeSocket => {
    const s = new FakeSocket(url);
    this.opened.push(s);
    return s;
  };

  get last(): FakeSocket {
    const s = this.opened[this.opened.length - 1];
    if (!s) throw new Error('no socket was opened');
    return s;
  }
}
