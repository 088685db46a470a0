import { useEffect } from 'react';
import { createBrowserRouter, Navigate, Outlet, RouterProvider, useLocation, useNavigate } from 'react-router';
import { useIsAuthenticated } from '@/features/auth/hooks/use-session';
import { onSessionExpired } from '@/lib/api-client';
import { AppLayout } from './layout';
import { LoginPage, RegisterPage } from './routes/auth-pages';
import { DashboardPage, HistoryPage, NotFoundPage, ProfilePage, SendPage, TransferPage } from './routes/app-pages';

function RequireAuth() {
  const authed = useIsAuthenticated();
  const location = useLocation();
  if (!authed) return <Navigate to="/login" replace state={{ from: location.pathname }} />;
  return <Outlet />;
}

/** A refused refresh token ends the session: back to the login page. */
function SessionWatcher() {
  const navigate = useNavigate();
  useEffect(() => onSessionExpired(() => void navigate('/login?expired=1', { replace: true })), [navigate]);
  return <Outlet />;
}

export const routes = [
  {
    element: <SessionWatcher />,
    children: [
      { path: '/login', element: <LoginPage /> },
      { path: '/register', element: <RegisterPage /> },
      {
        element: <RequireAuth />,
        children: [
          {
            element: <AppLayout />,
            children: [
              { path: '/', element: <DashboardPage /> },
              { path: '/send', element: <SendPage /> },
              { path: '/history', element: <HistoryPage /> },
              { path: '/transfers/:id', element: <TransferPage /> },
              { path: '/profile', element: <ProfilePage /> },
              { path: '*', element: <NotFoundPage /> },
            ],
          },
        ],
      },
    ],
  },
];

export function AppRouter() {
  return <RouterProvider router={createBrowserRouter(routes)} />;
}
