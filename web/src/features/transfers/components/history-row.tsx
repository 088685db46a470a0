import { Link } from 'react-router';
import { Money } from '@/components/ui/money';
import { StatusBadge } from '@/components/ui/status-badge';
import { formatDateTime } from '@/lib/dates';
import type { HistoryRow } from '../api/schemas';

export function HistoryItem({ row }: { row: HistoryRow }) {
  const who = row.counterparty.full_name;
  return (
    <li>
      <Link
        to={`/transfers/${row.id}`}
        data-testid="history-row"
        data-direction={row.direction}
        data-status={row.status}
        className="flex items-center justify-between gap-3 rounded-lg px-2 py-3 hover:bg-slate-50 focus-visible:outline-2 focus-visible:outline-brand-600"
      >
        <div className="min-w-0">
          <p className="truncate font-medium text-slate-900">
            {row.direction === 'in' ? 'From ' : 'To '}
            {who}
          </p>
          <p className="truncate text-xs text-slate-600">
            {formatDateTime(row.created_at)}
            {row.note ? ` · ${row.note}` : ''}
          </p>
        </div>
        <div className="flex shrink-0 flex-col items-end gap-1">
          <Money amount={row.amount} direction={row.direction} />
          {row.status !== 'SUCCESS' && <StatusBadge status={row.status} />}
        </div>
      </Link>
    </li>
  );
}
