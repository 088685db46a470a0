import { cn } from '@/lib/cn';

const styles: Record<string, string> = {
  PENDING: 'bg-amber-100 text-amber-900 border-amber-300 dark:bg-amber-950 dark:text-amber-200 dark:border-amber-800',
  SUCCESS: 'bg-green-100 text-green-900 border-green-300 dark:bg-green-950 dark:text-green-200 dark:border-green-800',
  FAILED: 'bg-red-100 text-red-900 border-red-300 dark:bg-red-950 dark:text-red-200 dark:border-red-800',
};
const words: Record<string, string> = { PENDING: 'Pending', SUCCESS: 'Success', FAILED: 'Failed' };

export function StatusBadge({ status, className }: { status: string; className?: string }) {
  return (
    <span
      data-status={status}
      className={cn('inline-flex items-center rounded-full border px-2 py-0.5 text-xs font-semibold', styles[status], className)}
    >
      {words[status] ?? status}
    </span>
  );
}
