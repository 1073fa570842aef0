// Trade a bearer token for the session cookie (POST /api/v1/auth/session). The token lives only in
// this form's state for as long as the request takes: it is never stored and never put in a URL.
import { useState, type FormEvent } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { useLocation, useSearch } from 'wouter';
import { api } from '../../lib/api/client';
import { errorText } from '../../utils/format';
import { replaceSession, useSession } from '../../lib/session';

export function SignInPage() {
  const client = useQueryClient();
  const current = useSession();
  const [, navigate] = useLocation();
  // Where the visitor was going before signing in: a path of this site only.
  const next = new URLSearchParams(useSearch()).get('next');
  const target = next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const t = token.trim().replace(/^bearer\s+/i, '');
    if (!t) {
      setError('Paste a token first.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const session = await api.signIn(t);
      setToken('');
      replaceSession(client, session);
      navigate(target, { replace: true });
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="page-narrow">
      <section className="card signin" aria-labelledby="signin-title">
        <h1 id="signin-title">Sign in to vigil</h1>
        {current && (
          <p className="note">You are signed in as <strong>{current.user}</strong>. Signing in again replaces that session.</p>
        )}
        <form onSubmit={(e) => void submit(e)} noValidate>
          <label htmlFor="token" className="field-label">Bearer token</label>
          <textarea
            id="token"
            name="token"
            className="input mono"
            rows={5}
            value={token}
            onChange={(e) => setToken(e.target.value)}
            autoComplete="off"
            autoCorrect="off"
            autoCapitalize="off"
            spellCheck={false}
            placeholder="eyJhbGciOiJIUzI1NiIs…"
            aria-describedby="token-help"
            aria-invalid={error ? true : undefined}
            disabled={busy}
          />
          <p id="token-help" className="help">
            The token is sent once, to exchange it for a session cookie that this page cannot read.
            It is not saved in the browser. Get one with <code>vigil token --user NAME</code>.
          </p>
          {error && <p className="alert alert-error" role="alert" data-testid="signin-error">{error}</p>}
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
        <div className="signin-demo">
          <h2>Demo mode</h2>
          <p>
            When vigil runs in demo mode it prints a one-time login link when it starts
            (<code>/api/v1/auth/login?code=…</code>). Open that link in this browser to be signed in as
            the demo user without a token. Each link works once, for an hour; a used or expired link
            answers “not found” — restart vigil or use a token instead.
          </p>
        </div>
      </section>
    </div>
  );
}
