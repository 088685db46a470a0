import { NavLink, Outlet, useNavigate } from 'react-router';
import { LiveIndicator } from '@/components/ui/live-indicator';
import { useLogout } from '@/features/auth/api/logout';
import { cn } from '@/lib/cn';
import { useLiveSocket } from './use-live-socket';

const links = [
  { to: '/', label: 'Home', end: true },
  { to: '/send', label: 'Send' },
  { to: '/history', label: 'History' },
  { to: '/profile', label: 'Profile' },
];

export function AppLayout() {
  useLiveSocket(true);
  const logout = useLogout();
  const navigate = useNavigate();
  return (
    <div className="min-h-dvh">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:rounded focus:bg-white focus:p-2">
        Skip to content
      </a>
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex max-w-4xl flex-wrap items-center justify-between gap-2 px-4 py-3">
          <div className="flex items-center gap-3">
            <span className="text-lg font-bold text-brand-700">VaultPay</span>
            <LiveIndicator />
          </div>
          <button
            type="button"
            className="min-h-11 rounded-lg px-3 text-sm font-medium text-slate-700 hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-brand-600"
            onClick={() => logout.mutate(undefined, { onSettled: () => void navigate('/login', { replace: true }) })}
          >
            Log out
          </button>
        </div>
        <nav aria-label="Main" className="mx-auto max-w-4xl px-2">
          <ul className="flex gap-1 overflow-x-auto">
            {links.map((l) => (
              <li key={l.to}>
                <NavLink
                  to={l.to}
                  end={l.end}
                  className={({ isActive }) =>
                    cn(
                      'inline-flex min-h-11 items-center border-b-2 px-3 text-sm font-medium focus-visible:outline-2 focus-visible:outline-brand-600',
                      isActive ? 'border-brand-700 text-brand-800' : 'border-transparent text-slate-700 hover:text-slate-900',
                    )
                  }
                >
                  {l.label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <main id="main" className="mx-auto flex max-w-4xl flex-col gap-4 px-4 py-6">
        <Outlet />
      </main>
    </div>
  );
}
