import { Link, Navigate, useLocation, useNavigate } from 'react-router';
import { Card } from '@/components/ui/card';
import { ThemeToggle } from '@/components/ui/theme-toggle';
import { LoginForm } from '@/features/auth/components/login-form';
import { RegisterForm } from '@/features/auth/components/register-form';
import { useIsAuthenticated } from '@/features/auth/hooks/use-session';
import { Page } from './page';

function AuthShell({ children }: { children: React.ReactNode }) {
  return (
    <main className="mx-auto flex min-h-dvh max-w-md flex-col justify-center gap-4 px-4 py-8">
      <div className="flex items-center justify-between">
        <p className="text-2xl font-bold text-accent">VaultPay</p>
        <ThemeToggle />
      </div>
      {children}
    </main>
  );
}

export function LoginPage() {
  const authed = useIsAuthenticated();
  const navigate = useNavigate();
  const location = useLocation();
  const from = (location.state as { from?: string } | null)?.from ?? '/';
  const expired = new URLSearchParams(location.search).has('expired');
  if (authed) return <Navigate to={from} replace />;
  return (
    <AuthShell>
      <Card>
        <Page title="Log in">
          {expired && (
            <p role="status" className="mt-2 rounded-lg bg-amber-50 p-3 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-100">
              Your session ended. Please log in again.
            </p>
          )}
          <div className="mt-4">
            <LoginForm onLoggedIn={() => void navigate(from, { replace: true })} />
          </div>
        </Page>
      </Card>
      <p className="text-center text-sm">
        New to VaultPay?{' '}
        <Link to="/register" className="font-medium text-accent underline">
          Create an account
        </Link>
      </p>
    </AuthShell>
  );
}

export function RegisterPage() {
  const authed = useIsAuthenticated();
  const navigate = useNavigate();
  if (authed) return <Navigate to="/" replace />;
  return (
    <AuthShell>
      <Card>
        <Page title="Create an account">
          <div className="mt-4">
            <RegisterForm onRegistered={() => void navigate('/', { replace: true })} />
          </div>
        </Page>
      </Card>
      <p className="text-center text-sm">
        Already have an account?{' '}
        <Link to="/login" className="font-medium text-accent underline">
          Log in
        </Link>
      </p>
    </AuthShell>
  );
}
