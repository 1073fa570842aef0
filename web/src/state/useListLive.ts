// Live snapshots of the listed investigations over one WebSocket, keyed by investigation id.
import { useEffect, useRef, useState } from 'react';
import type { Progress } from '../api/types';
import { browserListSocketDeps, ListSocket, wsUrl } from '../live/listSocket';
import type { ConnectionState } from '../live/types';

/** `active`: the ids the list shows as not over (a retried row is followed again). */
export function useListLive(ids: string[], active: string[] = []): { snapshots: Record<string, Progress>; connection: ConnectionState } {
  const [snapshots, setSnapshots] = useState<Record<string, Progress>>({});
  const [connection, setConnection] = useState<ConnectionState>('connecting');
  const socket = useRef<ListSocket | null>(null);
  const key = ids.join(',');
  const activeKey = active.join(',');
  const keyRef = useRef(key);
  keyRef.current = key;
  useEffect(() => {
    const s = new ListSocket(wsUrl(), browserListSocketDeps(),
      (id, p) => setSnapshots((old) => (old[id] && old[id].version > p.version ? old : { ...old, [id]: p })),
      (c) => setConnection(c));
    socket.current = s;
    s.follow(keyRef.current ? keyRef.current.split(',') : []);
    return () => {
      s.close();
      socket.current = null;
    };
  }, []);
  useEffect(() => {
    socket.current?.follow(key ? key.split(',') : [], activeKey ? activeKey.split(',') : []);
  }, [key, activeKey]);
  return { snapshots, connection };
}
