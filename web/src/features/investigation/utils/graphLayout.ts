// Positions of the entity graph, computed with d3-force: a fixed number of ticks, run synchronously
// when the set of nodes or links changes. Nodes placed before keep their positions (they are pinned
// while the new ones settle around them).
import {
  forceCenter, forceLink, forceManyBody, forceSimulation, forceX, forceY,
  type SimulationLinkDatum, type SimulationNodeDatum,
} from 'd3-force';

export interface Point { x: number; y: number }
export interface GraphNodeInput { id: string }
export interface GraphLinkInput { id: string; source: string; target: string }

interface SimNode extends SimulationNodeDatum { id: string }
type SimLink = SimulationLinkDatum<SimNode> & { id: string };

const FIRST_TICKS = 300;
const UPDATE_TICKS = 120;

/** A stable pseudo-random number in [0, 1) for a string, so layouts repeat. */
function hash01(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return ((h >>> 0) % 100000) / 100000;
}

export function layoutGraph(
  nodes: GraphNodeInput[],
  links: GraphLinkInput[],
  previous: ReadonlyMap<string, Point>,
): Map<string, Point> {
  const ids = new Set(nodes.map((n) => n.id));
  const usable = links.filter((l) => ids.has(l.source) && ids.has(l.target) && l.source !== l.target);
  const known = nodes.filter((n) => previous.has(n.id));
  const fresh = nodes.filter((n) => !previous.has(n.id));

  if (fresh.length === 0) {
    const out = new Map<string, Point>();
    for (const n of nodes) out.set(n.id, previous.get(n.id)!);
    return out;
  }

  const neighbours = new Map<string, string[]>();
  for (const l of usable) {
    (neighbours.get(l.source) ?? neighbours.set(l.source, []).get(l.source)!).push(l.target);
    (neighbours.get(l.target) ?? neighbours.set(l.target, []).get(l.target)!).push(l.source);
  }

  const simNodes: SimNode[] = nodes.map((n) => {
    const p = previous.get(n.id);
    if (p) return { id: n.id, x: p.x, y: p.y, fx: p.x, fy: p.y };
    // Start a new node next to a node already placed that it links to, or near the middle.
    const anchor = (neighbours.get(n.id) ?? []).map((id) => previous.get(id)).find((q) => q !== undefined);
    const angle = hash01(n.id) * Math.PI * 2;
    const r = anchor ? 40 : 20 + hash01(`${n.id}#`) * 60;
    const cx = anchor?.x ?? 0;
    const cy = anchor?.y ?? 0;
    return { id: n.id, x: cx + Math.cos(angle) * r, y: cy + Math.sin(angle) * r };
  });
  const simLinks: SimLink[] = usable.map((l) => ({ id: l.id, source: l.source, target: l.target }));

  const sim = forceSimulation<SimNode>(simNodes)
    .force('link', forceLink<SimNode, SimLink>(simLinks).id((d) => d.id).distance(90).strength(0.5))
    .force('charge', forceManyBody<SimNode>().strength(-200).distanceMax(300))
    .force('center', forceCenter<SimNode>(0, 0).strength(known.length > 0 ? 0.05 : 1))
    // A weak pull to the middle keeps entities without relationships from drifting away.
    .force('x', forceX<SimNode>(0).strength(0.06))
    .force('y', forceY<SimNode>(0).strength(0.06))
    .stop();
  sim.tick(known.length > 0 ? UPDATE_TICKS : FIRST_TICKS);

  const out = new Map<string, Point>();
  for (const n of simNodes) {
    const p = previous.get(n.id);
    out.set(n.id, p ?? { x: n.x ?? 0, y: n.y ?? 0 });
  }
  return out;
}
