import { Link } from 'react-router';
import { Card } from '@/components/ui/card';
import { Loading } from '@/components/ui/spinner';
import { EmptyState, ErrorState } from '@/components/ui/states';
import { useHistory } from '../api/get-history';
import { HistoryItem } from './history-row';

export function RecentActivity() {
  const history = useHistory({}, 5);
  const rows = history.data?.pages[0]?.results ?? [];
  return (
    <Card aria-labelledby="recent-heading">
      <div className="flex items-center justify-between">
        <h2 id="recent-heading" className="text-lg font-semibold">
          Recent activity
        </h2>
        <Link to="/history" className="text-sm font-medium text-brand-700 underline">
          See all
        </Link>
      </div>
      {history.isPending && <Loading label="Loading recent activity…" />}
      {history.isError && <ErrorState message={history.error.message} onRetry={() => void history.refetch()} />}
      {history.isSuccess && rows.length === 0 && <EmptyState title="No transactions yet." />}
      {rows.length > 0 && (
        <ul className="mt-2 divide-y divide-slate-100" aria-label="Recent transactions">
          {rows.map((row) => (
            <HistoryItem key={row.id} row={row} />
          ))}
        </ul>
      )}
    </Card>
  );
}
