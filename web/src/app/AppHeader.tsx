import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { Link, useLocation } from 'wouter';
import { ApiError, api } from '../lib/api/client';
import type { Session } from '../lib/api/types';
import { errorText } from '../utils/format';
import { replaceSession } from '../lib/session';

export function AppHeader({ session }: { session: Session | null }) {
  const client = useQueryClient();
  const [location, navigate] = useLocation();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function signOut() {
    setBusy(true);
    setError(null);
    try {
      await api.signOut();
    } catch (err) {
      // A 401 means the session had already ended, which is what signing out wants.
      if (!(err instanceof ApiError && err.status === 401)) {
        setError(errorText(err));
        setBusy(false);
        return;
      }
    }
    setBusy(false);
    replaceSession(client, null);
    navigate('/signin', { replace: true });
  }

  const navClass = (active: boolean) => (active ? 'nav-link active' : 'nav-link');

  return (
    <header className="app-header">
      <div className="app-header-inner">
        <Link to="/" className="brand" aria-label="vigil, investigations">vigil</Link>
        {session && (
          <nav className="app-nav" aria-label="Main">
            <Link to="/" className={navClass(location === '/')} aria-current={location === '/' ? 'page' : undefined}>
              Investigations
            </Link>
            <Link to="/new" className={navClass(location === '/new')} aria-current={location === '/new' ? 'page' : undefined}>
              New investigation
            </Link>
          </nav>
        )}
        <div className="app-user">
          {error && <span className="text-error" role="alert">{error}</span>}
          {session && (
            <>
              <span className="user-name" data-testid="user">{session.user}</span>
              <span className="user-roles">
                {session.roles.map((r) => <span key={r} className="role-chip">{r}</span>)}
              </span>
              <button type="button" className="btn btn-small" onClick={() => void signOut()} disabled={busy}>
                {busy ? 'Signing out…' : 'Sign out'}
              </button>
            </>
          )}
        </div>
      </div>
    </header>
  );
}
