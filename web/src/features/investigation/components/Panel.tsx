// A card with a title row; `actions` go on the right of the title.
import type { ReactNode } from 'react';

interface Props {
  title: string;
  id: string;
  className?: string;
  actions?: ReactNode;
  testId?: string;
  children: ReactNode;
}

export function Panel({ title, id, className, actions, testId, children }: Props) {
  return (
    <section className={`card panel ${className ?? ''}`} aria-labelledby={`${id}-title`} data-testid={testId}>
      <div className="panel-head">
        <h2 id={`${id}-title`}>{title}</h2>
        {actions && <div className="panel-actions">{actions}</div>}
      </div>
      {children}
    </section>
  );
}
