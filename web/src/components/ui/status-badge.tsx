import { cn } from '@/lib/cn';

const styles: Record<string, string> = {
  PENDING: 'bg-amber-100 text-amber-900 border-amber-300',
  SUCCESS: 'bg-green-100 text-green-900 border-green-300',
  FAILED: 'bg-red-100 text-red-900 border-red-300',
};
const words: Record<string, string> = { PENDING: 'Pending', SUCCESS: 'Success', FAILED: 'Failed' };

export function StatusBadge({ status }: { status: string }) {
  return (
    <span
      data-status={status}
      className={cn('inline-flex items-center rounded-full border px-2 py-0.5 text-xs font-semibold', styles[status])}
    >
      {words[status] ?? status}
    </span>
  );
}
