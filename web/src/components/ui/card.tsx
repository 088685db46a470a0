import type { HTMLAttributes } from 'react';
import { cn } from '@/lib/cn';

export function Card({ className, ...rest }: HTMLAttributes<HTMLElement>) {
  return <section className={cn('min-w-0 rounded-xl border border-line bg-surface p-4 shadow-sm sm:p-6', className)} {...rest} />;
}
