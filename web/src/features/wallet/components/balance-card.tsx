import { Link } from 'react-router';
import { buttonBase, buttonVariants } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { Skeleton } from '@/components/ui/skeleton';
import { ErrorState } from '@/components/ui/states';
import { cn } from '@/lib/cn';
import { Money } from '@/components/ui/money';
import { formatInr, isNegative, sumMoney, toPaise } from '@/lib/money';
import { useBalance } from '../api/get-balance';
import { useCashflow } from '../api/get-cashflow';
import { useFlashOnChange } from '../hooks/use-flash';

// On narrow phones each figure is one row, label left and amount right.
const figureClass = 'flex min-w-0 flex-wrap items-baseline justify-between gap-x-2 min-[400px]:block';

/** Money in and out over the cash-flow chart's 30 days (the same cached query). */
function LastThirtyDays() {
  const cashflow = useCashflow(30);
  if (!cashflow.data) return null;
  const days = cashflow.data.days;
  return (
    <div className="flex flex-col gap-1 text-sm">
      <h3 className="font-medium text-muted">Last 30 days</h3>
      <p className="flex flex-wrap gap-x-4 gap-y-1">
        <span>
          In <Money amount={sumMoney(days.map((d) => d.in))} direction="in" />
        </span>
        <span>
          Out <Money amount={sumMoney(days.map((d) => d.out))} direction="out" />
        </span>
      </p>
    </div>
  );
}

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
      <dl className="grid grid-cols-1 gap-2 rounded-lg bg-sunken p-3 text-sm min-[400px]:grid-cols-2 min-[400px]:gap-3">
        <div className={figureClass}>
          <dt className="text-muted">Available to send</dt>
          <dd
            data-testid="available"
            className={cn('text-lg font-semibold break-all tabular-nums text-ink', isNegative(b.available) && 'text-negative')}
          >
            {formatInr(b.available)}
          </dd>
        </div>
        <div className={figureClass}>
          <dt className="text-muted">Pending out</dt>
          <dd data-testid="pending-out" className="text-lg font-semibold break-all tabular-nums text-ink">
            {formatInr(b.pending_out)}
          </dd>
        </div>
        {pending && <p className="text-xs text-muted min-[400px]:col-span-2">Pending payments leave the balance when they settle.</p>}
      </dl>
      {withActions && <LastThirtyDays />}
      {withActions && (
        <div className="mt-auto grid grid-cols-2 gap-2">
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
