// The run's tool executions, filterable by agent and status. The rows are virtualized (fixed
// height), so hundreds of tools stay fast.
import { memo, useMemo, useRef, useState } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { Progress, ToolExecution } from '../../../lib/api/types';
import { Panel } from './Panel';
import { ToolRow, TOOL_COLUMNS } from './ToolRow';

const STATUSES: ToolExecution['status'][] = ['queued', 'running', 'completed', 'failed', 'skipped'];
const ROW_HEIGHT = 34;
const EMPTY: ToolExecution[] = [];

function ToolsPanelImpl({ progress }: { progress: Progress | null }) {
  const tools = progress?.tool_executions ?? EMPTY;
  const [agent, setAgent] = useState('');
  const [status, setStatus] = useState('');

  const agents = useMemo(() => [...new Set(tools.map((t) => t.agent_type))].sort(), [tools]);
  const rows = useMemo(
    () => tools.filter((t) => (!agent || t.agent_type === agent) && (!status || t.status === status)),
    [tools, agent, status],
  );

  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    getItemKey: (i) => rows[i]?.id ?? i,
  });

  const filters = (
    <div className="filters">
      <label className="inline-field">
        <span>Agent</span>
        <select className="input input-small" value={agent} onChange={(e) => setAgent(e.target.value)} data-testid="tools-agent-filter">
          <option value="">all</option>
          {agent && !agents.includes(agent) && <option value={agent}>{agent}</option>}
          {agents.map((a) => <option key={a} value={a}>{a}</option>)}
        </select>
      </label>
      <label className="inline-field">
        <span>Status</span>
        <select className="input input-small" value={status} onChange={(e) => setStatus(e.target.value)} data-testid="tools-status-filter">
          <option value="">all</option>
          {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
      </label>
    </div>
  );

  return (
    <Panel title="Tool executions" id="tools" className="span-8" actions={filters}>
      <div className="tools-summary subtle small">
        {progress ? (
          <>
            Showing {rows.length} of {tools.length}
            {' · '}{progress.completed_tools} completed · {progress.running_tools} running · {progress.queued_tools} queued
            {' · '}{progress.failed_tools} failed · {progress.skipped_tools} skipped
          </>
        ) : '—'}
      </div>
      <div className="vtable" role="table" aria-label="Tool executions" aria-rowcount={rows.length + 1}>
        <div className="vtable-head tool-grid" role="row" aria-rowindex={1}>
          {TOOL_COLUMNS.map((c) => (
            <span key={c.key} role="columnheader" className={c.num ? 'num' : undefined}>{c.label}</span>
          ))}
        </div>
        {/* The scroll box is the rowgroup (focusable, so it scrolls from the keyboard): an aria-label
            on a plain div is not allowed, and a generic div between table and rows has no name. */}
        <div ref={scrollRef} className="vtable-body" data-testid="tools" data-count={rows.length} tabIndex={0} role="rowgroup" aria-label="Tool execution rows, scrollable">
          {rows.length === 0 ? (
            <div className="empty" role="row"><span role="cell">{progress ? (tools.length ? 'No tool matches the filters.' : 'No tools queued yet.') : '—'}</span></div>
          ) : (
            <div className="vtable-inner" style={{ height: virtualizer.getTotalSize() }} role="presentation">
              {virtualizer.getVirtualItems().map((item) => {
                const t = rows[item.index];
                return (
                  <ToolRow
                    key={item.key}
                    tool={t}
                    rowIndex={item.index + 2}
                    top={item.start}
                  />
                );
              })}
            </div>
          )}
        </div>
      </div>
    </Panel>
  );
}

// Re-renders only when the snapshot changes, not on every event the page receives.
export const ToolsPanel = memo(ToolsPanelImpl);
