import { formatInr } from '@/lib/money';
import { cn } from '@/lib/cn';

/**
 * An amount. With `direction` it is signed and coloured (+ green in, − red out); `notSent`
 * is a payment that failed: struck through, muted, no sign, since no money moved.
 */
export function Money({
  amount,
  direction,
  notSent = false,
  className,
}: {
  amount: string;
  direction?: 'in' | 'out';
  notSent?: boolean;
  className?: string;
}) {
  if (notSent) {
    return (
      <span className={cn('tabular-nums whitespace-nowrap text-muted', className)}>
        <span className="sr-only">not sent </span>
        <s>{formatInr(amount)}</s>
      </span>
    );
  }
  if (!direction) return <span className={cn('tabular-nums whitespace-nowrap', className)}>{formatInr(amount)}</span>;
  const sign = direction === 'in' ? '+' : '−';
  return (
    <span
      className={cn(
        'font-semibold tabular-nums whitespace-nowrap',
        direction === 'in' ? 'text-positive' : 'text-negative',
        className,
      )}
    >
      <span className="sr-only">{direction === 'in' ? 'received ' : 'sent '}</span>
      <span aria-hidden="true">{sign}</span>
      {formatInr(amount)}
    </span>
  );
}
