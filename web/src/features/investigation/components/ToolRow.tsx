import { memo } from 'react';
import type { ToolExecution } from '../../../lib/api/types';
import { DASH, formatDuration, formatRisk, riskLevel } from '../../../utils/format';

export const TOOL_COLUMNS: readonly { key: string; label: string; num?: boolean }[] = [
  { key: 'agent', label: 'Agent' },
  { key: 'tool', label: 'Tool' },
  { key: 'status', label: 'Status' },
  { key: 'duration', label: 'Duration', num: true },
  { key: 'risk', label: 'Risk', num: true },
  { key: 'findings', label: 'Findings', num: true },
  { key: 'error', label: 'Error' },
  { key: 'retries', label: 'Retries', num: true },
];

interface Props { tool: ToolExecution; rowIndex: number; top: number }

function ToolRowImpl({ tool: t, rowIndex, top }: Props) {
  const finished = t.status === 'completed' || t.status === 'failed';
  const risk = t.result?.risk_score;
  const errorText = t.error ? `${t.error.code}: ${t.error.message}` : t.skip_reason ? `skipped: ${t.skip_reason}` : '';
  return (
    <div
      className={`vtable-row tool-grid tool-${t.status}`}
      role="row"
      aria-rowindex={rowIndex}
      data-tool-id={t.id}
      data-status={t.status}
      style={{ transform: `translateY(${top}px)` }}
    >
      <span role="cell" className="ellipsis" title={t.agent_name ?? t.agent_type}>{t.agent_type}</span>
      <span role="cell" className="ellipsis mono" title={`${t.tool_name} (${t.id})`}>{t.tool_name}</span>
      <span role="cell"><span className={`pill pill-tool-${t.status}`}>{t.status}</span></span>
      <span role="cell" className="num mono">{finished ? formatDuration(t.execution_time_ms) : DASH}</span>
      <span role="cell" className={`num mono risk-${riskLevel(risk)}`}>{formatRisk(risk)}</span>
      <span role="cell" className="num mono">{t.result ? t.result.findings.length : DASH}</span>
      <span role="cell" className={`ellipsis${t.error ? ' text-error' : ' subtle'}`} title={errorText || undefined}>
        {errorText || DASH}
      </span>
      <span role="cell" className="num mono" title={`${t.retry_count} of at most ${t.max_retries}`}>
        {t.retry_count}
      </span>
    </div>
  );
}

export const ToolRow = memo(ToolRowImpl);
