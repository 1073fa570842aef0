// One connection per browser: the tabs that show the same investigation elect a leader with the
// Web Locks API. Only the leader runs a Feed; it hands everything it receives to the other tabs
// over a BroadcastChannel. A tab that opens asks for the state so far (`hello`) and then applies
// what the leader broadcasts. When the leader's tab closes, the browser releases its lock, the
// next tab in line gets it and starts its own Feed from the last event id it applied: the stream
// replays from there, and the model drops what it already has, so there is no gap and no repeat.
import type { Progress, VigilEvent } from '../api/types';
import { isTerminal } from '../api/types';
import type { FeedDeps, FeedSink } from './feed';
import { Feed } from './feed';
import type { ConnectionState } from './types';

const SESSION_ENDED = 'Your session has ended. Sign in again.';

export interface LocksLike {
  request(name: string, options: { mode: 'exclusive'; signal?: AbortSignal },
    callback: (lock: unknown) => Promise<void>): Promise<unknown>;
}

export interface ChannelLike {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (ev: MessageEvent) => void): void;
  close(): void;
}

/** Why a leader stopped following, as far as the tabs need to know it. */
export interface StopState {
  notFound: boolean;
  error: string | null;
}

/**
 * What followInvestigation drives: the page's view model (InvestigationModel implements it). The
 * transport names only what it calls, so it never imports the view model; `S` is what one tab
 * hands another, which it passes along without looking inside, beyond why the leader stopped.
 */
export interface FollowedModel<S extends StopState> {
  readonly current: { readonly progress: Progress | null; readonly connection: ConnectionState };
  readonly lastEventId: string | null;
  applySnapshot(progress: Progress): void;
  applyEvents(items: VigilEvent[]): void;
  resumeFrom(eventId: string): void;
  setConnection(state: ConnectionState, retryInSeconds?: number | null): void;
  setRole(role: 'leader' | 'follower'): void;
  setNotFound(): void;
  setError(error: string): void;
  exportState(): S;
  importState(state: S): void;
}

export type TabMessage<S extends StopState = StopState> =
  | { t: 'hello' }
  | { t: 'leader' }
  | { t: 'state'; state: S; connection: ConnectionState }
  | { t: 'snapshot'; progress: Progress }
  | { t: 'events'; items: VigilEvent[] }
  | { t: 'cursor'; id: string }
  | { t: 'connection'; state: ConnectionState }
  | { t: 'stopped'; reason: 'not_found' | 'unauthorized' }
  | { t: 'restart' };

export interface ShareDeps {
  feed: FeedDeps;
  /** navigator.locks, or null where the browser has none: then every tab connects by itself. */
  locks: LocksLike | null;
  channel: ((name: string) => ChannelLike) | null;
}

export interface Following {
  /** Starts the feed over (after a retry starts a new run), in whichever tab leads. */
  restart(): void;
  close(): void;
}

/** Follows an investigation into `model`, sharing one connection among the browser's tabs. */
export function followInvestigation<S extends StopState>(id: string, model: FollowedModel<S>, deps: ShareDeps): Following {
  const name = `vigil:investigation:${id}`;
  const channel = deps.locks && deps.channel ? deps.channel(name) : null;
  let feed: Feed | null = null;
  let leader = false;
  let hasState = false;
  let closed = false;
  let lastConnection: ConnectionState = 'connecting';
  /** A restart this tab asked for: if no tab was leading to hear it, this one does it on taking over. */
  let restartAsked = false;
  let releaseLock: () => void = () => {};
  const lockAbort = new AbortController();

  const post = (m: TabMessage<S>) => { if (leader && channel) channel.postMessage(m); };

  const sink: FeedSink = {
    snapshot: (progress) => { model.applySnapshot(progress); post({ t: 'snapshot', progress }); },
    events: (items) => { model.applyEvents(items); post({ t: 'events', items }); },
    resumedFrom: (eventId) => { model.resumeFrom(eventId); post({ t: 'cursor', id: eventId }); },
    connection: (state, retry) => {
      lastConnection = state;
      model.setConnection(state, retry);
      post({ t: 'connection', state });
    },
    stopped: (reason) => {
      if (reason === 'not_found') model.setNotFound();
      else model.setError(SESSION_ENDED);
      post({ t: 'stopped', reason });
    },
  };

  const startFeed = (again = false) => {
    feed?.stop();
    const p = model.current.progress;
    // A tab that takes over an investigation that is already over has nothing to ask for.
    if (!again && p && isTerminal(p.state) && model.current.connection === 'ended' && !restartAsked) {
      lastConnection = 'ended';  // what later tabs are told
      return;
    }
    restartAsked = false;
    feed = new Feed(id, deps.feed, sink, model.lastEventId);
    feed.start();
  };

  const becomeLeader = () => {
    leader = true;
    hasState = true;
    model.setRole('leader');
    post({ t: 'leader' });
    startFeed();
  };

  const onMessage = (m: TabMessage<S>) => {
    if (closed) return;
    if (leader) {
      if (m.t === 'hello') post({ t: 'state', state: model.exportState(), connection: lastConnection });
      else if (m.t === 'restart') startFeed(true);
      return;
    }
    switch (m.t) {
      case 'leader':
        if (!hasState) channel?.postMessage({ t: 'hello' } satisfies TabMessage);
        break;
      case 'state':
        model.importState(m.state);
        hasState = true;
        if (!m.state.notFound && m.state.error === null) {
          model.setConnection(m.connection === 'ended' ? 'ended' : 'following');
        }
        break;
      case 'snapshot':
        model.applySnapshot(m.progress);
        break;
      case 'events':
        if (hasState) model.applyEvents(m.items);
        break;
      case 'cursor':
        if (hasState) model.resumeFrom(m.id);
        break;
      case 'connection':
        model.setConnection(m.state === 'ended' ? 'ended' : 'following');
        break;
      case 'stopped':
        if (m.reason === 'not_found') model.setNotFound();
        else model.setError(SESSION_ENDED);
        break;
      default:
        break;
    }
  };

  if (!channel || !deps.locks) {
    becomeLeader();
  } else {
    channel.addEventListener('message', (ev) => onMessage(ev.data as TabMessage<S>));
    model.setRole('follower');
    model.setConnection('following');
    channel.postMessage({ t: 'hello' } satisfies TabMessage);
    deps.locks
      .request(name, { mode: 'exclusive', signal: lockAbort.signal }, () => {
        if (closed) return Promise.resolve();
        becomeLeader();
        // Held until this tab closes (the browser releases it) or the page leaves.
        return new Promise<void>((resolve) => { releaseLock = resolve; });
      })
      .catch(() => { /* aborted: the page left before it was its turn */ });
  }

  return {
    restart: () => {
      if (leader) startFeed(true);
      else {
        restartAsked = true;
        channel?.postMessage({ t: 'restart' } satisfies TabMessage);
      }
    },
    close: () => {
      if (closed) return;
      closed = true;
      feed?.stop();
      lockAbort.abort();
      releaseLock();
      channel?.close();
    },
  };
}

/** The browser's implementations of ShareDeps' tab parts. */
export function browserShareParts(): Pick<ShareDeps, 'locks' | 'channel'> {
  const locks = typeof navigator !== 'undefined' && 'locks' in navigator ? (navigator.locks as unknown as LocksLike) : null;
  const channel = typeof BroadcastChannel !== 'undefined' ? (n: string) => new BroadcastChannel(n) : null;
  return { locks, channel };
}
