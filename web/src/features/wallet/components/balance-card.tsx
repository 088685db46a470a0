import { Card } from '@/components/ui/card';
import { Loading } from '@/components/ui/spinner';
import { ErrorState } from '@/components/ui/states';
import { cn } from '@/lib/cn';
import { formatInr, isNegative } from '@/lib/money';
import { useBalance } from '../api/get-balance';
import { useFlashOnChange } from '../hooks/use-flash';

export function BalanceCard() {
  const balance = useBalance();
  const { flash, key } = useFlashOnChange(balance.data?.balance);

  if (balance.isPending) {
    return (
      <Card aria-label="Balance">
        <Loading label="Loading your balance…" />
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
  return (
    <Card aria-labelledby="balance-heading">
      <h2 id="balance-heading" className="text-sm font-medium text-slate-600">
        Balance
      </h2>
      <p
        key={key}
        data-testid="balance"
        data-flash={flash ?? undefined}
        className={cn(
          'mt-1 -mx-2 rounded-lg px-2 text-4xl font-bold tabular-nums text-slate-900',
          flash === 'up' && 'flash-up',
          flash === 'down' && 'flash-down',
        )}
      >
        {formatInr(b.balance)}
      </p>
      <p className="sr-only" aria-live="polite">
        {flash ? `Balance ${flash === 'up' ? 'went up' : 'went down'} to ${formatInr(b.balance)}` : ''}
      </p>
      <dl className="mt-4 grid grid-cols-2 gap-4 text-sm">
        <div>
          <dt className="text-slate-600">Pending out</dt>
          <dd data-testid="pending-out" className="text-lg font-semibold tabular-nums">
            {formatInr(b.pending_out)}
          </dd>
        </div>
        <div>
          <dt className="text-slate-600">Available</dt>
          <dd
            data-testid="available"
            className={cn('text-lg font-semibold tabular-nums', isNegative(b.available) && 'text-red-700')}
          >
            {formatInr(b.available)}
          </dd>
        </div>
      </dl>
    </Card>
  );
}
