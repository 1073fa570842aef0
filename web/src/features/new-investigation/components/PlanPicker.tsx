// The plan, as the catalog's tools grouped by phase. A phase with no tool checked is left out.
import { CATALOG, toolKey } from './catalog';
import { formatDuration } from '../../../utils/format';
import { FieldError } from './FieldError';

interface Props {
  selected: Set<string>;
  onChange: (next: Set<string>) => void;
  error?: string;
}

export function PlanPicker({ selected, onChange, error }: Props) {
  function toggle(key: string, on: boolean) {
    const next = new Set(selected);
    if (on) next.add(key); else next.delete(key);
    onChange(next);
  }
  function togglePhase(keys: string[], on: boolean) {
    const next = new Set(selected);
    for (const k of keys) if (on) next.add(k); else next.delete(k);
    onChange(next);
  }
  const total = CATALOG.reduce((n, p) => n + p.tools.length, 0);
  return (
    <fieldset className="fieldset" data-testid="plan-field">
      <legend>Plan <span className="subtle small">({selected.size} of {total} tools)</span></legend>
      <div className="plan-grid">
        {CATALOG.map((p, i) => {
          const keys = p.tools.map((t) => toolKey(p.name, t.tool_name));
          const n = keys.filter((k) => selected.has(k)).length;
          return (
            <fieldset key={p.name} className={`plan-phase${n === 0 ? ' plan-phase-off' : ''}`}>
              <legend>
                <label className="check">
                  <input
                    type="checkbox"
                    checked={n === keys.length}
                    ref={(el) => { if (el) el.indeterminate = n > 0 && n < keys.length; }}
                    onChange={(e) => togglePhase(keys, e.target.checked)}
                    aria-label={`All tools of ${p.name}`}
                  />
                  <span className="mono">{i + 1}. {p.name}</span>
                </label>
                <span className="subtle small"> est. {formatDuration(p.estimated_duration_ms)}</span>
              </legend>
              {p.tools.map((t) => {
                const k = toolKey(p.name, t.tool_name);
                return (
                  <label key={k} className="check check-tool">
                    <input
                      type="checkbox"
                      checked={selected.has(k)}
                      onChange={(e) => toggle(k, e.target.checked)}
                      name={k}
                    />
                    <span className="mono">{t.tool_name}</span> <span className="subtle small">{t.agent_type}</span>
                  </label>
                );
              })}
              {n === 0 && <p className="help small">Left out of the plan.</p>}
            </fieldset>
          );
        })}
      </div>
      {selected.size === 0 && <p className="help">No tool chosen: the investigation will have an empty plan.</p>}
      <FieldError id="err-plan" message={error} />
    </fieldset>
  );
}
