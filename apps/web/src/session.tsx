import { useQuery, useQueryClient } from '@tanstack/react-query';
import { ReactNode, createContext, useContext } from 'react';
import { send, setCsrfToken } from './api/client';
import { sessionQuery } from './api/queries';
import type { SessionView } from './api/types';

interface Session {
  /** The signed-in user, or null for anonymous. */
  user: SessionView | null;
  loading: boolean;
  signIn(username: string, password: string): Promise<void>;
  signOut(): Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const queries = useQueryClient();
  const session = useQuery(sessionQuery);
  const user = session.data ?? null;
  setCsrfToken(user?.csrfToken);

  // Every other answer may differ for the new user. (clear() would also drop the session query
  // its observer here watches, which would then miss the new session.)
  const forgetAnswers = () => queries.resetQueries({ predicate: (query) => query.queryKey[0] !== 'session' });

  const value: Session = {
    user,
    loading: session.isPending,
    async signIn(username, password) {
      const signedIn = await send<SessionView>('POST', '/api/session', { username, password });
      setCsrfToken(signedIn.csrfToken);
      queries.setQueryData(['session'], signedIn);
      await forgetAnswers();
    },
    async signOut() {
      await send('DELETE', '/api/session');
      setCsrfToken(undefined);
      queries.setQueryData(['session'], null);
      await forgetAnswers();
    },
  };
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}
