import { formatInr } from '@/lib/money';
import { cn } from '@/lib/cn';

/** An amount; with `direction` it is signed and coloured (+ green in, - red out). */
export function Money({ amount, direction, className }: { amount: string; direction?: 'in' | 'out'; className?: string }) {
  if (!direction) return <span className={cn('tabular-nums', className)}>{formatInr(amount)}</span>;
  const sign = direction === 'in' ? '+' : '−';
  return (
    <span className={cn('font-semibold tabular-nums', direction === 'in' ? 'text-green-700' : 'text-red-700', className)}>
      <span className="sr-only">{direction === 'in' ? 'received ' : 'sent '}</span>
      <span aria-hidden="true">{sign}</span>
      {formatInr(amount)}
    </span>
  );
}
