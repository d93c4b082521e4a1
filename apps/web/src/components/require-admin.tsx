import { Alert } from '@mantine/core';
import { Navigate, Outlet, useLocation } from 'react-router';
import { useSession } from '../session';

/** Administration pages: anonymous visitors are sent to sign in, signed-in non-admins told why not. */
export function RequireAdmin() {
  const { user, loading } = useSession();
  const location = useLocation();
  if (loading) return null;
  if (!user) return <Navigate to={`/sign-in?next=${encodeURIComponent(location.pathname)}`} replace />;
  if (!user.admin)
    return (
      <Alert color="red" title="Administrators only">
        Your account may not change this server's configuration.
      </Alert>
    );
  return <Outlet />;
}
