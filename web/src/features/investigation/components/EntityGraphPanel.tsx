// Entities and relationships as a graph (SVG). Nodes are coloured by entity type; an edge's
// relationship type shows on hover.
import { memo, useMemo } from 'react';
import type { Entity, Relationship } from '../../../lib/api/types';
import { formatFraction } from '../../../utils/format';
import { Panel } from './Panel';
import { typeClass } from './EntityChips';
import { useGraphLayout } from '../hooks/useGraphLayout';

const PAD_X = 24;
const PAD_Y = 30;
const MIN_W = 420;
const MIN_H = 260;
const R = 7;

function cut(s: string, n = 32): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

interface Props { entities: Entity[]; relationships: Relationship[] }

function EntityGraphPanelImpl({ entities, relationships }: Props) {
  const nodeIds = entities.map((e) => e.id);
  const links = relationships.map((r) => ({ id: r.id, source: r.source_entity_id, target: r.target_entity_id }));
  // Lay out again only when the set of nodes or links changes.
  const setKey = `${[...nodeIds].sort().join('\n')}\u0000${links.map((l) => `${l.id}:${l.source}>${l.target}`).sort().join('\n')}`;
  const positions = useGraphLayout(nodeIds.map((id) => ({ id })), links, setKey);

  const viewBox = useMemo(() => {
    let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    for (const e of entities) {
      const p = positions.get(e.id);
      if (!p) continue;
      // Labels sit to the right of their node: count their width in (about 6 units a character).
      minX = Math.min(minX, p.x); maxX = Math.max(maxX, p.x + R + 4 + cut(e.label).length * 6);
      minY = Math.min(minY, p.y); maxY = Math.max(maxY, p.y);
    }
    if (!Number.isFinite(minX)) return `${-MIN_W / 2} ${-MIN_H / 2} ${MIN_W} ${MIN_H}`;
    const w = Math.max(MIN_W, maxX - minX + PAD_X * 2);
    const h = Math.max(MIN_H, maxY - minY + PAD_Y * 2);
    const cx = (minX + maxX) / 2;
    const cy = (minY + maxY) / 2;
    return `${cx - w / 2} ${cy - h / 2} ${w} ${h}`;
  }, [positions, entities]);

  const types = useMemo(() => {
    const m = new Map<string, number>();
    for (const e of entities) m.set(e.type, (m.get(e.type) ?? 0) + 1);
    return [...m.entries()].sort((a, b) => a[0].localeCompare(b[0]));
  }, [entities]);

  const drawn = relationships.filter((r) => positions.has(r.source_entity_id) && positions.has(r.target_entity_id));

  return (
    <Panel
      title="Entities and relationships"
      id="graph"
      className="span-6"
      actions={
        <span className="subtle small" data-testid="graph-counts">
          {entities.length} {entities.length === 1 ? 'entity' : 'entities'} · {relationships.length}{' '}
          {relationships.length === 1 ? 'relationship' : 'relationships'}
        </span>
      }
    >
      <div className="graph-box" data-testid="entity-graph" data-nodes={entities.length} data-edges={drawn.length}>
        <svg
          className="graph"
          viewBox={viewBox}
          preserveAspectRatio="xMidYMid meet"
          aria-hidden="true"
        >
          <g className="edges">
            {drawn.map((r) => {
              const a = positions.get(r.source_entity_id)!;
              const b = positions.get(r.target_entity_id)!;
              return (
                <g key={r.id} className="edge" data-relationship-id={r.id}>
                  <title>{`${r.relationship_type} (confidence ${formatFraction(r.confidence)}): ${r.source_entity_id} → ${r.target_entity_id}`}</title>
                  <line className="edge-hit" x1={a.x} y1={a.y} x2={b.x} y2={b.y} />
                  <line className="edge-line" x1={a.x} y1={a.y} x2={b.x} y2={b.y} strokeOpacity={0.35 + 0.65 * r.confidence} />
                </g>
              );
            })}
          </g>
          <g className="nodes">
            {entities.map((e) => {
              const p = positions.get(e.id);
              if (!p) return null;
              return (
                <g key={e.id} className={`node node-${typeClass(e.type)}`} transform={`translate(${p.x} ${p.y})`} data-entity-id={e.id}>
                  <title>{`${e.label} (${e.type})`}</title>
                  <circle r={R} />
                  <text x={R + 4} y={4}>{cut(e.label)}</text>
                </g>
              );
            })}
          </g>
        </svg>
        {entities.length === 0 && <div className="graph-empty">No entities yet</div>}
        <GraphText entities={entities} relationships={relationships} />
      </div>
      {types.length > 0 && (
        <ul className="legend" aria-label="Entity types">
          {types.map(([t, n]) => (
            <li key={t}><span className={`legend-dot node-${typeClass(t)}`} aria-hidden="true" />{t} <span className="subtle">{n}</span></li>
          ))}
        </ul>
      )}
    </Panel>
  );
}

// Re-renders (and recomputes its layout key) only when the entities or relationships change.
export const EntityGraphPanel = memo(EntityGraphPanelImpl);

/** The graph in words, for screen readers (and for finding an entity with the browser's search). */
function GraphText({ entities, relationships }: Props) {
  const labels = new Map(entities.map((e) => [e.id, e.label]));
  return (
    <div className="visually-hidden">
      <h3>Entities</h3>
      <ul>
        {entities.map((e) => <li key={e.id}>{e.label}</li>)}
      </ul>
      <h3>Relationships</h3>
      <ul>
        {relationships.map((r) => (
          <li key={r.id}>
            {labels.get(r.source_entity_id) ?? r.source_entity_id} — {r.relationship_type} →{' '}
            {labels.get(r.target_entity_id) ?? r.target_entity_id}
          </li>
        ))}
      </ul>
    </div>
  );
}
