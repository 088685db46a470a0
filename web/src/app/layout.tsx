import type { ReactNode } from 'react';
import { NavLink, Outlet, useNavigate } from 'react-router';
import { LiveIndicator } from '@/components/ui/live-indicator';
import { ThemeToggle } from '@/components/ui/theme-toggle';
import { Toaster } from '@/components/ui/toaster';
import { useLogout } from '@/features/auth/api/logout';
import { cn } from '@/lib/cn';
import { toastStore } from '@/lib/toast';
import { useLiveSocket } from './use-live-socket';

const icon = (d: ReactNode) => (
  <svg viewBox="0 0 24 24" className="h-6 w-6" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round">
    {d}
  </svg>
);

const links = [
  { to: '/', label: 'Home', end: true, icon: icon(<path d="M3 11l9-8 9 8v10a1 1 0 0 1-1 1h-5v-7H9v7H4a1 1 0 0 1-1-1z" />) },
  { to: '/send', label: 'Send', icon: icon(<path d="M22 2L11 13M22 2l-7 20-4-9-9-4z" />) },
  { to: '/history', label: 'History', icon: icon(<><circle cx="12" cy="12" r="9" /><path d="M12 7v5l3 3" /></>) },
  { to: '/profile', label: 'Profile', icon: icon(<><circle cx="12" cy="8" r="4" /><path d="M4 21a8 8 0 0 1 16 0" /></>) },
];

export function AppLayout() {
  useLiveSocket(true);
  const logout = useLogout();
  const navigate = useNavigate();
  return (
    <div className="min-h-dvh">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-50 focus:rounded focus:bg-surface focus:p-2"
      >
        Skip to content
      </a>
      <header className="border-b border-line bg-surface">
        <div className="mx-auto flex max-w-4xl items-center justify-between gap-2 px-4 py-2">
          <div className="flex min-w-0 items-center gap-3">
            <span className="text-lg font-bold text-accent">VaultPay</span>
            <LiveIndicator />
          </div>
          <div className="flex items-center gap-1">
            <ThemeToggle />
            <button
              type="button"
              className="min-h-11 rounded-lg px-3 text-sm font-medium text-ink hover:bg-sunken focus-visible:outline-2 focus-visible:outline-brand-600"
              onClick={() =>
                logout.mutate(undefined, {
                  onSettled: () => {
                    // Nothing of this sign-in stays on screen for whoever signs in next.
                    toastStore.clear();
                    void navigate('/login', { replace: true });
                  },
                })
              }
            >
              Log out
            </button>
          </div>
        </div>
        {/* Wider screens: tabs under the header. Phones get the bottom tab bar instead. */}
        <MainNav variant="top" />
      </header>
      <main id="main" className="mx-auto flex max-w-4xl flex-col gap-4 px-4 pt-6 pb-28 sm:pb-8">
        <Outlet />
      </main>
      <MainNav variant="bottom" />
      <Toaster />
    </div>
  );
}

const navStyles = {
  top: {
    nav: 'mx-auto hidden max-w-4xl px-2 sm:block',
    list: 'flex gap-1',
    link: 'inline-flex min-h-11 items-center border-b-2 px-3 text-sm font-medium',
    active: 'border-accent text-accent',
    idle: 'border-transparent text-muted hover:text-ink',
  },
  bottom: {
    nav: 'fixed inset-x-0 bottom-0 z-40 border-t border-line bg-surface pb-[env(safe-area-inset-bottom)] sm:hidden',
    list: 'grid grid-cols-4',
    link: 'flex min-h-14 flex-col items-center justify-center gap-0.5 text-xs font-medium focus-visible:-outline-offset-2',
    active: 'text-accent',
    idle: 'text-muted',
  },
};

/** The main tabs: under the header on wider screens, a bottom bar with icons on phones (only
 * one of the two is displayed at a time, so assistive technology meets one). */
function MainNav({ variant }: { variant: keyof typeof navStyles }) {
  const style = navStyles[variant];
  return (
    <nav aria-label="Main" className={style.nav}>
      <ul className={style.list}>
        {links.map((l) => (
          <li key={l.to}>
            <NavLink
              to={l.to}
              end={l.end}
              className={({ isActive }) =>
                cn(style.link, 'focus-visible:outline-2 focus-visible:outline-brand-600', isActive ? style.active : style.idle)
              }
            >
              {variant === 'bottom' && l.icon}
              {l.label}
            </NavLink>
          </li>
        ))}
      </ul>
    </nav>
  );
}
