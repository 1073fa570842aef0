// A 0–100 bar that screen readers announce (role="progressbar").
import { formatPercent } from '../utils/format';

interface Props {
  value: number | null | undefined;
  label: string;
  testId?: string;
  size?: 'small' | 'large';
  tone?: 'blue' | 'green' | 'red' | 'amber' | 'grey';
  showValue?: boolean;
}

export function ProgressBar({ value, label, testId, size = 'small', tone = 'blue', showValue = true }: Props) {
  const known = value !== null && value !== undefined && Number.isFinite(value);
  const pct = known ? Math.max(0, Math.min(100, value)) : 0;
  return (
    <div className={`progress progress-${size}`}>
      <div
        className={`progress-track progress-${tone}`}
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={known ? Math.round(pct) : undefined}
        aria-valuetext={known ? `${Math.round(pct)}%` : 'unknown'}
        data-testid={testId}
      >
        <div className="progress-fill" style={{ width: `${pct}%` }} />
      </div>
      {showValue && <span className="progress-value">{formatPercent(known ? pct : null)}</span>}
    </div>
  );
}
