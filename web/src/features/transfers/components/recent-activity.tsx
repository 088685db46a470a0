import { Link } from 'react-router';
import { Card } from '@/components/ui/card';
import { SkeletonRows } from '@/components/ui/skeleton';
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
        <Link to="/history" className="inline-flex min-h-11 items-center text-sm font-medium text-accent underline">
          See all
        </Link>
      </div>
      {history.isPending && <SkeletonRows label="Loading recent activity…" lines={4} />}
      {history.isError && <ErrorState message={history.error.message} onRetry={() => void history.refetch()} />}
      {history.isSuccess && rows.length === 0 && <EmptyState title="No transactions yet." />}
      {rows.length > 0 && (
        <ul className="mt-2 divide-y divide-line" aria-label="Recent transactions">
          {rows.map((row) => (
            <HistoryItem key={row.id} row={row} />
          ))}
        </ul>
      )}
    </Card>
  );
}
