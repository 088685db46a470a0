import { Link } from 'react-router';
import { Money } from '@/components/ui/money';
import { StatusBadge } from '@/components/ui/status-badge';
import { cn } from '@/lib/cn';
import { formatDateTime, formatShortTime } from '@/lib/dates';
import { failureReason, type HistoryRow } from '../api/schemas';

/** One transaction. A failed payment moved no money: it is muted, its amount struck through
 * without a sign, and the reason is given in words. */
export function HistoryItem({ row, timeOnly = false }: { row: HistoryRow; /** Under a day heading: the time is enough. */ timeOnly?: boolean }) {
  const who = row.counterparty.full_name;
  const failed = row.status === 'FAILED';
  return (
    <li>
      <Link
        to={`/transfers/${row.id}`}
        data-testid="history-row"
        data-direction={row.direction}
        data-status={row.status}
        className="flex min-w-0 items-center justify-between gap-3 rounded-lg px-2 py-3 hover:bg-sunken focus-visible:outline-2 focus-visible:outline-brand-600"
      >
        <div className="min-w-0">
          <p className={cn('truncate font-medium', failed ? 'text-muted' : 'text-ink')}>
            {row.direction === 'in' ? 'From ' : 'To '}
            {who}
          </p>
          <p className="truncate text-xs text-muted">
            {timeOnly ? formatShortTime(row.created_at) : formatDateTime(row.created_at)}
            {row.note ? ` · ${row.note}` : ''}
          </p>
          {failed && (
            <p data-testid="row-failure" className="text-xs text-muted">
              Not sent: {failureReason(row.failure_code)}
            </p>
          )}
        </div>
        <div className="flex shrink-0 flex-col items-end gap-1">
          <Money amount={row.amount} direction={row.direction} notSent={failed} />
          {row.status !== 'SUCCESS' && <StatusBadge status={row.status} />}
        </div>
      </Link>
    </li>
  );
}
