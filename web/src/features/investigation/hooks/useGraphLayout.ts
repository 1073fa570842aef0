// The entity graph's positions, computed in a Web Worker (graphLayout.worker.ts) whenever the set
// of nodes or links changes; in the page itself where workers are not available. Known nodes keep
// their places; only the latest request's answer is used.
import { useEffect, useRef, useState } from 'react';
import { layoutGraph, type GraphLinkInput, type GraphNodeInput, type Point } from '../utils/graphLayout';
import type { LayoutAnswer, LayoutRequest } from '../utils/graphLayout.worker';

function startWorker(): Worker | null {
  try {
    return new Worker(new URL('../utils/graphLayout.worker.ts', import.meta.url), { type: 'module' });
  } catch {
    return null;
  }
}

/** `key` stands for the node and link sets: a new layout is made only when it changes. */
export function useGraphLayout(nodes: GraphNodeInput[], links: GraphLinkInput[], key: string): Map<string, Point> {
  const [positions, setPositions] = useState<Map<string, Point>>(() => new Map());
  const latest = useRef(positions);
  const worker = useRef<Worker | null>(null);
  const seq = useRef(0);

  const pending = useRef<LayoutRequest | null>(null);

  useEffect(() => {
    const w = startWorker();
    worker.current = w;
    if (w) {
      w.onmessage = (e: MessageEvent<LayoutAnswer>) => {
        if (e.data.seq !== seq.current) return;  // a newer request is on its way
        pending.current = null;
        latest.current = new Map(e.data.positions);
        setPositions(latest.current);
      };
      // A worker that cannot run (its script not loaded): lay out here from now on.
      w.onerror = () => {
        w.terminate();
        worker.current = null;
        const r = pending.current;
        if (r) {
          latest.current = layoutGraph(r.nodes, r.links, latest.current);
          setPositions(latest.current);
        }
      };
    }
    return () => {
      w?.terminate();
      worker.current = null;
    };
  }, []);

  useEffect(() => {
    seq.current += 1;
    const w = worker.current;
    if (!w) {
      latest.current = layoutGraph(nodes, links, latest.current);
      setPositions(latest.current);
      return;
    }
    const request: LayoutRequest = { seq: seq.current, nodes, links, previous: [...latest.current] };
    pending.current = request;
    w.postMessage(request);
    // `key` stands for nodes and links.
  }, [key]);

  return positions;
}
