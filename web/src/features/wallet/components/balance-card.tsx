import { Link } from 'react-router';
import { buttonBase, buttonVariants } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { Skeleton } from '@/components/ui/skeleton';
import { ErrorState } from '@/components/ui/states';
import { cn } from '@/lib/cn';
import { formatInr, isNegative, toPaise } from '@/lib/money';
import { useBalance } from '../api/get-balance';
import { useFlashOnChange } from '../hooks/use-flash';

/** The balance, what is on its way out and what is left to spend; with `withActions` the
 * things people do next. */
export function BalanceCard({ withActions = false }: { withActions?: boolean }) {
  const balance = useBalance();
  const { flash, key } = useFlashOnChange(balance.data?.balance);

  if (balance.isPending) {
    return (
      <Card aria-label="Balance">
        <div role="status" className="flex flex-col gap-3">
          <span className="sr-only">Loading your balance…</span>
          <Skeleton className="h-4 w-20" />
          <Skeleton className="h-10 w-48" />
          <Skeleton className="h-12 w-full" />
        </div>
      </Card>
    );
  }
  if (balance.isError) {
    return (
      <Card aria-label="Balance">
        <ErrorState message={`Could not load your balance. ${balance.error.message}`} onRetry={() => void balance.refetch()} />
      </Card>
    );
  }
  const b = balance.data;
  const pending = toPaise(b.pending_out) > 0n;
  return (
    <Card aria-labelledby="balance-heading" className="flex flex-col gap-4">
      <div>
        <h2 id="balance-heading" className="text-sm font-medium text-muted">
          Balance
        </h2>
        <p
          key={key}
          data-testid="balance"
          data-flash={flash ?? undefined}
          className={cn(
            'mt-1 -mx-2 rounded-lg px-2 text-[clamp(1.75rem,9vw,2.5rem)] leading-tight font-bold break-all tabular-nums text-ink',
            flash === 'up' && 'flash-up',
            flash === 'down' && 'flash-down',
          )}
        >
          {formatInr(b.balance)}
        </p>
        <p className="sr-only" aria-live="polite">
          {flash ? `Balance ${flash === 'up' ? 'went up' : 'went down'} to ${formatInr(b.balance)}` : ''}
        </p>
      </div>
      <dl className="grid grid-cols-1 gap-3 rounded-lg bg-sunken p-3 text-sm min-[400px]:grid-cols-2">
        <div className="min-w-0">
          <dt className="text-muted">Available to send</dt>
          <dd
            data-testid="available"
            className={cn('text-lg font-semibold break-all tabular-nums text-ink', isNegative(b.available) && 'text-negative')}
          >
            {formatInr(b.available)}
          </dd>
        </div>
        <div className="min-w-0">
          <dt className="text-muted">Pending out</dt>
          <dd data-testid="pending-out" className="text-lg font-semibold break-all tabular-nums text-ink">
            {formatInr(b.pending_out)}
          </dd>
          {pending && <p className="text-xs text-muted">Being processed; leaves when settled.</p>}
        </div>
      </dl>
      {withActions && (
        <div className="grid grid-cols-2 gap-2">
          <Link to="/send" className={cn(buttonBase, buttonVariants.primary)}>
            Send money
          </Link>
          <Link to="/history" className={cn(buttonBase, buttonVariants.secondary)}>
            All transactions
          </Link>
        </div>
      )}
    </Card>
  );
}
