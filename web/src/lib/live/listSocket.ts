// The investigations list follows every row over one WebSocket (docs/api.md §8.2): one
// `subscribe` per row, a `snapshot` and then `progress` for each. Rows that end are not
// subscribed again, and once every row has ended the socket closes: a list of finished work
// makes no requests.
import type { Progress } from '../api/types';
import { Backoff } from './backoff';
import type { ConnectionState } from './types';

export interface SocketLike {
  send(data: string): void;
  close(): void;
  addEventListener(type: 'open' | 'close' | 'error' | 'message', listener: (ev: Event) => void): void;
  readonly readyState: number;
}

export interface ListSocketDeps {
  openSocket(url: string): SocketLike;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

interface ServerMessage {
  type: string;
  investigation_id?: string;
  data?: { code?: string } & Partial<Progress>;
}

const OPEN = 1;

export class ListSocket {
  private socket: SocketLike | null = null;
  private wanted = new Set<string>();
  private readonly subscribed = new Set<string>();
  private readonly ended = new Set<string>();
  /** Not found (or not the user's), or refused as malformed: never asked for again. */
  private readonly gone = new Set<string>();
  /** Refused for now (rate limited, too many subscriptions): asked for again after a backoff. */
  private readonly refusedBackoff = new Backoff();
  private refusedTimer: unknown = null;
  private readonly backoff = new Backoff();
  private timer: unknown = null;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly deps: ListSocketDeps,
    private readonly onProgress: (id: string, p: Progress) => void,
    private readonly onConnection: (s: ConnectionState, retryInSeconds: number | null) => void,
  ) {}

  /**
   * The rows on screen now. `active` are those the list itself shows as not over: a row that
   * ended and is active again (a retry started a new run) is followed again.
   */
  follow(ids: readonly string[], active: readonly string[] = []): void {
    this.wanted = new Set(ids);
    for (const id of active) this.ended.delete(id);
    const socket = this.socket;
    if (socket && socket.readyState === OPEN) {
      for (const id of [...this.subscribed]) {
        if (!this.wanted.has(id)) {
          socket.send(JSON.stringify({ type: 'unsubscribe', investigation_id: id }));
          this.subscribed.delete(id);
        }
      }
      this.subscribeAll();
    }
    this.connectIfNeeded();
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) this.deps.clearTimeout(this.timer);
    if (this.refusedTimer !== null) this.deps.clearTimeout(this.refusedTimer);
    this.socket?.close();
    this.socket = null;
  }

  private get live(): string[] {
    return [...this.wanted].filter((id) => !this.ended.has(id) && !this.gone.has(id));
  }

  private connectIfNeeded(): void {
    if (this.closed || this.socket || this.timer !== null) return;
    if (this.live.length === 0) {
      this.onConnection('ended', null);
      return;
    }
    this.onConnection('connecting', null);
    const socket = this.deps.openSocket(this.url);
    this.socket = socket;
    socket.addEventListener('open', () => {
      if (this.socket !== socket) return;
      this.backoff.reset();
      this.onConnection('live', null);
      this.subscribeAll();
    });
    socket.addEventListener('message', (ev) => {
      if (this.socket !== socket) return;
      this.handle(JSON.parse((ev as MessageEvent<string>).data) as ServerMessage);
    });
    socket.addEventListener('close', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.subscribed.clear();
      if (this.closed) return;
      if (this.live.length === 0) {
        this.onConnection('ended', null);
        return;
      }
      const wait = this.backoff.next();
      this.onConnection('reconnecting', wait / 1000);
      this.timer = this.deps.setTimeout(() => {
        this.timer = null;
        this.connectIfNeeded();
      }, wait);
    });
  }

  private subscribeAll(): void {
    for (const id of this.live) {
      if (this.subscribed.has(id)) continue;
      this.socket?.send(JSON.stringify({ type: 'subscribe', investigation_id: id, after: null }));
      this.subscribed.add(id);
    }
  }

  /** Once no row is left to follow, the socket closes: a list of finished work makes no requests. */
  private closeIfAllEnded(): void {
    if (this.live.length > 0) return;
    const socket = this.socket;
    this.socket = null;
    socket?.close();
    this.onConnection('ended', null);
  }

  private retryRefused(): void {
    if (this.refusedTimer !== null) return;
    this.refusedTimer = this.deps.setTimeout(() => {
      this.refusedTimer = null;
      if (this.socket && this.socket.readyState === OPEN) this.subscribeAll();
    }, this.refusedBackoff.next());
  }

  private handle(m: ServerMessage): void {
    const id = m.investigation_id;
    if (!id) return;
    switch (m.type) {
      case 'snapshot':
        this.refusedBackoff.reset();
        if (m.data) this.onProgress(id, m.data as Progress);
        break;
      case 'progress':
        if (m.data) this.onProgress(id, m.data as Progress);
        break;
      case 'end':
        this.ended.add(id);
        this.subscribed.delete(id);
        this.closeIfAllEnded();
        break;
      case 'error':
        this.subscribed.delete(id);
        if (m.data?.code === 'slow_consumer') this.subscribeAll();
        else if (m.data?.code === 'rate_limited' || m.data?.code === 'unavailable') this.retryRefused();
        else {
          this.gone.add(id);
          this.closeIfAllEnded();
        }
        break;
      default:
        break;
    }
  }
}

export function browserListSocketDeps(): ListSocketDeps {
  return {
    openSocket: (url) => new WebSocket(url),
    setTimeout: (fn, ms) => window.setTimeout(fn, ms),
    clearTimeout: (h) => window.clearTimeout(h as number),
  };
}

export function wsUrl(): string {
  const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${window.location.host}/api/v1/ws`;
}
