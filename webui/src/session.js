// The logged-in user and what they may do, shared through context.
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

export const SessionContext = createContext(null);

export function useSession() {
  return useContext(SessionContext);
}

// roleIn returns the user's role in project: admin, operator, viewer or ''.
export function roleIn(session, project) {
  if (!session) return '';
  if (session.access.platformAdmin) return 'admin';
  return (session.access.projects || {})[project] || '';
}

export const canWrite = (role) => role === 'operator' || role === 'admin';
export const isPlatformAdmin = (session) => !!session?.access.platformAdmin;
