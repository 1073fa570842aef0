// Live snapshots of the listed investigations over one WebSocket, keyed by investigation id. The
// socket outlives the list page for a while (lib/linger.ts): coming back to the list follows the
// rows it still has without a new socket or new subscriptions.
import { useEffect, useSyncExternalStore } from 'react';
import type { Progress } from '../../../lib/api/types';
import { browserListSocketDeps, ListSocket, wsUrl } from '../../../lib/live/listSocket';
import type { ConnectionState } from '../../../lib/live/types';
import { Lingering } from '../../../lib/linger';

export interface ListLive { snapshots: Record<string, Progress>; connection: ConnectionState }

class ListStore {
  private state: ListLive = { snapshots: {}, connection: 'connecting' };
  private readonly listeners = new Set<() => void>();
  readonly socket = new ListSocket(wsUrl(), browserListSocketDeps(),
    (id, p) => {
      const old = this.state.snapshots[id];
      if (old && old.version > p.version) return;
      this.set({ snapshots: { ...this.state.snapshots, [id]: p } });
    },
    (connection) => this.set({ connection }));

  private set(patch: Partial<ListLive>): void {
    this.state = { ...this.state, ...patch };
    for (const fn of this.listeners) fn();
  }

  subscribe = (fn: () => void) => {
    this.listeners.add(fn);
    return () => { this.listeners.delete(fn); };
  };

  getSnapshot = (): ListLive => this.state;
}

const lists = new Lingering<ListStore>(() => new ListStore(), (store) => store.socket.close());

/** `active`: the ids the list shows as not over (a retried row is followed again). */
export function useListLive(ids: string[], active: string[] = []): ListLive {
  const store = lists.get('list');
  useEffect(() => {
    lists.acquire('list');
    return () => lists.release('list');
  }, [store]);
  const key = ids.join(',');
  const activeKey = active.join(',');
  useEffect(() => {
    store.socket.follow(key ? key.split(',') : [], activeKey ? activeKey.split(',') : []);
  }, [store, key, activeKey]);
  return useSyncExternalStore(store.subscribe, store.getSnapshot);
}
