// The entities of a new investigation: rows of type + value.
import { ENTITY_TYPES } from './catalog';
import { FieldError } from './FieldError';

export interface EntityDraft { key: number; type: string; value: string }

interface Props {
  rows: EntityDraft[];
  max: number;
  /** Field errors keyed by path: `entities`, `entities[1]`, `entities[1].value`, … */
  errors: Record<string, string>;
  onChange: (rows: EntityDraft[]) => void;
  onAdd: () => void;
}

function rowError(errors: Record<string, string>, i: number): string | undefined {
  const prefix = `entities[${i}]`;
  const hit = Object.entries(errors).find(([k]) => k === prefix || k.startsWith(`${prefix}.`));
  return hit?.[1];
}

export function EntityRows({ rows, max, errors, onChange, onAdd }: Props) {
  const update = (i: number, patch: Partial<EntityDraft>) =>
    onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const remove = (i: number) => onChange(rows.filter((_, j) => j !== i));
  return (
    <fieldset className="fieldset" data-testid="entities-field">
      <legend>Entities <span className="subtle small">({rows.length} of at most {max})</span></legend>
      <p className="help">
        {rows.length === 0 ? 'No entities: the investigation starts without any.' : 'Rows left blank are not sent.'}
      </p>
      <ul className="entity-rows">
        {rows.map((r, i) => {
          const err = rowError(errors, i);
          const errId = `err-entities-${i}`;
          return (
            <li key={r.key} className="entity-row" data-index={i}>
              <label className="visually-hidden" htmlFor={`entity-type-${i}`}>Type of entity {i + 1}</label>
              <select
                id={`entity-type-${i}`}
                name={`entities[${i}].type`}
                className="input entity-type"
                value={r.type}
                onChange={(e) => update(i, { type: e.target.value })}
              >
                {ENTITY_TYPES.map((t) => <option key={t} value={t}>{t}</option>)}
              </select>
              <label className="visually-hidden" htmlFor={`entity-value-${i}`}>Value of entity {i + 1}</label>
              <input
                id={`entity-value-${i}`}
                name={`entities[${i}].value`}
                className="input entity-value"
                value={r.value}
                onChange={(e) => update(i, { value: e.target.value })}
                placeholder="value"
                autoComplete="off"
                aria-invalid={err ? true : undefined}
                aria-describedby={err ? errId : undefined}
              />
              <button type="button" className="btn btn-small" onClick={() => remove(i)} aria-label={`Remove entity ${i + 1}`}>
                Remove
              </button>
              <FieldError id={errId} message={err} />
            </li>
          );
        })}
      </ul>
      <FieldError id="err-entities" message={errors.entities} />
      <button type="button" className="btn btn-small" onClick={onAdd} disabled={rows.length >= max}>
        Add entity
      </button>
    </fieldset>
  );
}
