import { useState } from 'react';
import type { Entity } from '../../../lib/api/types';

const SHOWN = 8;

export function EntityChips({ entities }: { entities: Entity[] }) {
  const [all, setAll] = useState(false);
  if (entities.length === 0) return <div className="chips subtle small">No entities</div>;
  const shown = all ? entities : entities.slice(0, SHOWN);
  return (
    <ul className="chips" aria-label="Entities" data-testid="entities">
      {shown.map((e) => (
        <li key={e.id} className={`chip chip-${typeClass(e.type)}`} title={`${e.type}: ${e.value}`}>
          <span className="chip-type">{e.type}</span> {e.value}
        </li>
      ))}
      {entities.length > SHOWN && (
        <li>
          <button type="button" className="btn-link small" onClick={() => setAll((a) => !a)}>
            {all ? 'Show fewer' : `+${entities.length - SHOWN} more`}
          </button>
        </li>
      )}
    </ul>
  );
}

const KNOWN = new Set(['ip', 'user_id', 'email', 'device_id', 'merchant', 'payment_method_token', 'account_id']);

/** A CSS-safe class suffix for an entity type (known types have their own colour). */
export function typeClass(type: string): string {
  return KNOWN.has(type) ? type.replace(/_/g, '-') : 'other';
}
