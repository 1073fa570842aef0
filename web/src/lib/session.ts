// The signed-in user, for the pages below the shell.
import { createContext, useContext } from 'react';
import type { QueryClient } from '@tanstack/react-query';
import type { Session } from './api/types';

/** The query holding the session: a Session, or null when signed out. */
export const SESSION_KEY = ['session'] as const;

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session | null {
  return useContext(SessionContext);
}

/** dev and admin may create investigations and move their lifecycle. */
export function canWrite(session: Session | null): boolean {
  return !!session && (session.roles.includes('dev') || session.roles.includes('admin'));
}

/** Forgets everything cached for the previous user and records the new session (or none). */
export function replaceSession(client: QueryClient, session: Session | null): void {
  client.removeQueries({ predicate: (q) => q.queryKey[0] !== SESSION_KEY[0] });
  client.getMutationCache().clear();
  client.setQueryData(SESSION_KEY, session);
}
