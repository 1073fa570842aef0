// One row of the list: the live snapshot wins over the list's row when there is one.
import { Link } from 'wouter';
import type { InvestigationSummary, Progress } from '../../../lib/api/types';
import { formatDateTime, formatRelative, formatRisk, riskLevel } from '../../../utils/format';
import { StatusBadge } from '../../../components/StatusBadge';
import { ProgressBar } from '../../../components/ProgressBar';
import { progressTone } from '../../../components/progressTone';

interface Props { row: InvestigationSummary; snapshot?: Progress; now: number }

export function InvestigationRow({ row, snapshot, now }: Props) {
  // The newer of the two wins. The socket stops following a row at its `end` (and after an error),
  // so its last snapshot can be older than the list's row, e.g. once a failed investigation has
  // been retried: then the row's state is the true one, not the snapshot's `failed`.
  const live = snapshot && snapshot.version >= row.version ? snapshot : undefined;
  const state = live?.state ?? row.state;
  const percent = live?.completion_percent ?? row.completion_percent;
  // The list has no risk; a snapshot's risk holds only for the run it belongs to.
  const riskOf = snapshot && snapshot.run_id === row.run_id ? snapshot : undefined;
  const risk = riskOf && riskOf.risk_metrics.last_calculated ? riskOf.risk_metrics.overall : null;
  const updated = live?.last_updated_at ?? row.updated_at;
  const id = row.investigation_id;
  return (
    <tr data-investigation-id={id} data-live={snapshot ? 'yes' : 'no'}>
      <td>
        <Link to={`/investigations/${id}`} className="row-name">{row.name}</Link>
        <div className="mono subtle small">{id}</div>
      </td>
      <td><StatusBadge state={state} /></td>
      <td className="col-progress">
        <ProgressBar value={percent} label={`Progress of ${row.name}`} tone={progressTone(state)} />
      </td>
      <td className="num">
        <span className={`risk risk-${riskLevel(risk)}`}>{formatRisk(risk)}</span>
      </td>
      <td title={formatDateTime(updated)}>{formatRelative(updated, now)}</td>
    </tr>
  );
}
