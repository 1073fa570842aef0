import { Link } from 'wouter';

export function NotFoundPage({ title = 'Page not found', message }: { title?: string; message?: string }) {
  return (
    <section className="card not-found" data-testid="not-found" aria-labelledby="nf-title">
      <h1 id="nf-title">{title}</h1>
      <p>{message ?? 'There is nothing at this address.'}</p>
      <p><Link to="/">Back to the investigations</Link></p>
    </section>
  );
}
