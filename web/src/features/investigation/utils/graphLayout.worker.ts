// Lays out the entity graph off the main thread: a few hundred entities take a d3-force run of
// hundreds of milliseconds, which would freeze the page while events keep arriving.
import { layoutGraph, type GraphLinkInput, type GraphNodeInput, type Point } from './graphLayout';

export interface LayoutRequest {
  seq: number;
  nodes: GraphNodeInput[];
  links: GraphLinkInput[];
  previous: [string, Point][];
}

export interface LayoutAnswer { seq: number; positions: [string, Point][] }

self.onmessage = (e: MessageEvent<LayoutRequest>) => {
  const { seq, nodes, links, previous } = e.data;
  const positions = layoutGraph(nodes, links, new Map(previous));
  (self as unknown as Worker).postMessage({ seq, positions: [...positions] } satisfies LayoutAnswer);
};
