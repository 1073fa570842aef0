// Create an investigation (and start it). The server validates; its problem `detail` is shown next
// to the field it names.
import { useState, type FormEvent } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { Link, useLocation } from 'wouter';
import { ApiError, api } from '../../lib/api/client';
import { byteLength, errorText } from '../../utils/format';
import { canWrite, useSession } from '../../lib/session';
import { CATALOG, toolKey } from './components/catalog';
import { EntityRows, type EntityDraft } from './components/EntityRows';
import { PlanPicker } from './components/PlanPicker';
import { FieldError } from './components/FieldError';
import { investigationsKey } from '../../lib/api/queryKeys';

const MAX_ENTITIES = 10;

/** Field path → message. */
type Errors = Record<string, string>;

let draftSeq = 0;
const newDraft = (): EntityDraft => ({ key: ++draftSeq, type: 'ip', value: '' });

function allTools(): Set<string> {
  return new Set(CATALOG.flatMap((p) => p.tools.map((t) => toolKey(p.name, t.tool_name))));
}

export function NewInvestigationPage() {
  const session = useSession();
  const client = useQueryClient();
  const [, navigate] = useLocation();
  const [name, setName] = useState('');
  const [entities, setEntities] = useState<EntityDraft[]>(() => [newDraft()]);
  const [selected, setSelected] = useState<Set<string>>(allTools);
  const [simulated, setSimulated] = useState(true);
  const [startNow, setStartNow] = useState(true);
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<string | null>(null);

  if (!canWrite(session)) {
    return (
      <section className="card page-narrow" aria-labelledby="new-title">
        <h1 id="new-title">New investigation</h1>
        <p className="note" data-testid="no-write-role">
          Creating investigations needs the <strong>dev</strong> or <strong>admin</strong> role. You are signed in
          with {session?.roles.join(', ') || 'no role'}. Ask for a token with the dev role.
        </p>
        <p><Link to="/">Back to the investigations</Link></p>
      </section>
    );
  }

  /** The rows that will be sent: rows left blank are ignored. */
  const filled = () => entities.map((d, i) => ({ d, i })).filter((x) => x.d.value.trim() !== '');

  function validate(): Errors {
    const e: Errors = {};
    const n = name.trim();
    if (!n) e.name = 'Give the investigation a name.';
    else if (byteLength(n) > 255) e.name = 'The name may be at most 255 bytes long.';
    const seen = new Set<string>();
    for (const { d, i } of filled()) {
      const v = d.value.trim();
      if (byteLength(v) > 1024) e[`entities[${i}].value`] = 'At most 1024 bytes.';
      else if (seen.has(`${d.type}:${v}`)) e[`entities[${i}].value`] = 'This entity is listed twice.';
      seen.add(`${d.type}:${v}`);
    }
    return e;
  }

  async function submit(ev: FormEvent) {
    ev.preventDefault();
    if (busy) return;
    const local = validate();
    setErrors(local);
    if (Object.keys(local).length > 0) return;
    const sent = filled();
    const phases = CATALOG
      .map((p) => ({
        name: p.name,
        estimated_duration_ms: p.estimated_duration_ms,
        tools: p.tools.filter((t) => selected.has(toolKey(p.name, t.tool_name))),
      }))
      .filter((p) => p.tools.length > 0);
    const body = {
      name: name.trim(),
      entities: sent.map(({ d }) => ({ type: d.type, value: d.value.trim() })),
      plan: { phases },
      runner: simulated ? 'simulated' : null,
    };
    setBusy(true);
    let id: string;
    try {
      const inv = await api.create(body);
      id = inv.investigation_id;
      void client.invalidateQueries({ queryKey: investigationsKey });
    } catch (err) {
      // The server names entities by their index in the body; show the error on that row.
      setErrors(toErrors(err, (k) => sent[k]?.i ?? k));
      setBusy(false);
      return;
    }
    if (startNow) {
      try {
        await api.action(id, 'start');
      } catch (err) {
        setCreated(id);
        setErrors({ '': `The investigation was created, but starting it failed: ${errorText(err)}` });
        setBusy(false);
        return;
      }
    }
    setBusy(false);
    navigate(`/investigations/${id}`);
  }

  const general = errors[''];
  const entityErrors = Object.fromEntries(
    Object.entries(errors).filter(([k]) => k === 'entities' || k.startsWith('entities[')),
  );
  const planError = Object.entries(errors).find(([k]) => k === 'plan' || k.startsWith('plan.'))?.[1];

  return (
    <div className="new-page">
      <div className="page-head">
        <h1>New investigation</h1>
      </div>
      <form className="card form" onSubmit={(e) => void submit(e)} noValidate aria-describedby={general ? 'form-error' : undefined}>
        {general && (
          <div className="alert alert-error" role="alert" id="form-error" data-testid="form-error">
            {general}
            {created && <> <Link to={`/investigations/${created}`}>Open it</Link>.</>}
          </div>
        )}

        <div className="field">
          <label htmlFor="inv-name" className="field-label">Name</label>
          <input
            id="inv-name"
            name="name"
            className="input"
            value={name}
            onChange={(e) => setName(e.target.value)}
            required
            aria-invalid={errors.name ? true : undefined}
            aria-describedby={errors.name ? 'err-name' : undefined}
            placeholder="Suspicious login: 203.0.113.7"
            autoComplete="off"
          />
          <FieldError id="err-name" message={errors.name} />
        </div>

        <EntityRows
          rows={entities}
          max={MAX_ENTITIES}
          errors={entityErrors}
          onChange={setEntities}
          onAdd={() => setEntities((r) => (r.length >= MAX_ENTITIES ? r : [...r, newDraft()]))}
        />

        <PlanPicker selected={selected} onChange={setSelected} error={planError} />

        <fieldset className="fieldset">
          <legend>Running it</legend>
          <label className="check">
            <input type="checkbox" checked={simulated} onChange={(e) => setSimulated(e.target.checked)} name="runner" />
            Drive it with the built-in simulator (simulated data)
          </label>
          <p className="help">
            The simulator's durations, risk scores, findings and discoveries are random. Leave this off when a real
            producer will report the events.
          </p>
          <FieldError id="err-runner" message={errors.runner} />
          <label className="check">
            <input type="checkbox" checked={startNow} onChange={(e) => setStartNow(e.target.checked)} name="start" />
            Start immediately
          </label>
        </fieldset>

        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? 'Creating…' : startNow ? 'Create and start' : 'Create'}
          </button>
          <Link to="/" className="btn">Cancel</Link>
        </div>
      </form>
    </div>
  );
}

/** A failed create as field errors: the problem's `field` names where to show its detail. */
function toErrors(err: unknown, rowOf: (sentIndex: number) => number): Errors {
  let field = err instanceof ApiError && err.status === 400 ? err.problem?.field : undefined;
  if (field) field = field.replace(/^entities\[(\d+)\]/, (_m, k: string) => `entities[${rowOf(Number(k))}]`);
  if (field && /^(name|runner|entities|plan)\b/.test(field)) return { [field]: errorText(err) };
  return { '': errorText(err) };
}
