// The run's risk: overall, confidence, per agent, and how overall moved over time.
import type { Progress } from '../../../lib/api/types';
import type { Sample } from '../stores/view';
import { formatDateTime, formatFraction, formatRisk, riskLevel } from '../../../utils/format';
import { Panel } from './Panel';
import { TimeChart } from './TimeChart';

interface Props { progress: Progress | null; history: Sample[] }

export function RiskPanel({ progress, history }: Props) {
  const rm = progress?.risk_metrics;
  // Until a risk_updated event arrives the server's zeroes are defaults, not a score.
  const calculated = !!rm?.last_calculated;
  const overall = calculated ? rm.overall : null;
  const agents = rm ? Object.entries(rm.by_agent).sort((a, b) => b[1] - a[1]) : [];
  return (
    <Panel title="Risk" id="risk" className="span-4" testId="risk">
      <div className="risk-top">
        <div className="big-stat">
          <span className={`big-number risk-${riskLevel(overall)}`} data-testid="risk-overall">{formatRisk(overall)}</span>
          <span className="stat-label">overall risk (0–100)</span>
        </div>
        <dl className="stat-list">
          <div><dt>Confidence</dt><dd data-testid="risk-confidence">{formatFraction(calculated ? rm.confidence : null)}</dd></div>
          <div><dt>Last calculated</dt><dd>{formatDateTime(rm?.last_calculated)}</dd></div>
        </dl>
      </div>
      <h3 className="sub-head">By agent</h3>
      {agents.length === 0 ? (
        <p className="empty small">—</p>
      ) : (
        <ul className="agent-bars">
          {agents.map(([agent, v]) => (
            <li key={agent} data-agent={agent}>
              <span className="agent-name">{agent}</span>
              <span className="mini-bar" aria-hidden="true">
                <span className={`mini-fill risk-bg-${riskLevel(v)}`} style={{ width: `${Math.max(0, Math.min(1, v)) * 100}%` }} />
              </span>
              <span className="mono num">{formatRisk(v)}</span>
            </li>
          ))}
        </ul>
      )}
      <h3 className="sub-head">Overall over time</h3>
      <TimeChart samples={history} label="Overall risk over time" range={[0, 1]} color="red" height={110} formatValue={(v) => String(Math.round(v * 100))} testId="risk-chart" />
    </Panel>
  );
}
