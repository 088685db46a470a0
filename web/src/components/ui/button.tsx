import type { ButtonHTMLAttributes } from 'react';
import { cn } from '@/lib/cn';
import { Spinner } from './spinner';

type Props = ButtonHTMLAttributes<HTMLButtonElement> & {
  variant?: 'primary' | 'secondary' | 'danger' | 'ghost';
  loading?: boolean;
};

export const buttonVariants = {
  primary: 'bg-brand-700 text-white hover:bg-brand-800 disabled:bg-slate-500',
  secondary: 'bg-surface text-ink border border-field hover:bg-sunken disabled:text-muted',
  danger: 'bg-red-700 text-white hover:bg-red-800 disabled:bg-slate-500',
  ghost: 'text-ink hover:bg-sunken',
};

export const buttonBase =
  'inline-flex min-h-11 items-center justify-center gap-2 rounded-lg px-4 py-2 text-sm font-semibold ' +
  'focus-visible:outline-3 focus-visible:outline-offset-2 focus-visible:outline-brand-600 disabled:cursor-not-allowed';

export function Button({ variant = 'primary', loading = false, className, children, disabled, ...rest }: Props) {
  return (
    <button
      type="button"
      {...rest}
      disabled={disabled || loading}
      aria-busy={loading || undefined}
      className={cn(buttonBase, buttonVariants[variant], className)}
    >
      {loading && <Spinner className="h-4 w-4" />}
      {children}
    </button>
  );
}
