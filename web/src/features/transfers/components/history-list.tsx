import { useEffect, useRef, useState } from 'react';
import { Button } from '@/components/ui/button';
import { Loading } from '@/components/ui/spinner';
import { EmptyState, ErrorState } from '@/components/ui/states';
import { useHistory } from '../api/get-history';
import type { HistoryFilters, TransferStatus } from '../api/schemas';
import { HistoryItem } from './history-row';

const selectClass =
  'min-h-11 rounded-lg border border-slate-400 bg-white px-3 py-2 text-sm focus:outline-3 focus:outline-offset-1 focus:outline-brand-600';

export function HistoryList() {
  const [filters, setFilters] = useState<HistoryFilters>({});
  const history = useHistory(filters);
  const sentinel = useRef<HTMLDivElement>(null);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = history;

  // Infinite scroll: load the next page when the end of the list comes into view. The button
  // below does the same for keyboards and for browsers without IntersectionObserver.
  useEffect(() => {
    const el = sentinel.current;
    if (!el || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && hasNextPage && !isFetchingNextPage) void fetchNextPage();
    }, { rootMargin: '200px' });
    observer.observe(el);
    return () => observer.disconnect();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);

  const rows = history.data?.pages.flatMap((p) => p.results) ?? [];

  return (
    <div className="flex flex-col gap-4">
      <div className="flex flex-wrap gap-3" role="group" aria-label="Filters">
        <label className="flex flex-col gap-1 text-sm font-medium">
          Direction
          <select
            className={selectClass}
            value={filters.direction ?? ''}
            onChange={(e) => setFilters((f) => ({ ...f, direction: (e.target.value || undefined) as HistoryFilters['direction'] }))}
          >
            <option value="">All</option>
            <option value="in">Money in</option>
            <option value="out">Money out</option>
          </select>
        </label>
        <label className="flex flex-col gap-1 text-sm font-medium">
          Status
          <select
            className={selectClass}
            value={filters.status ?? ''}
            onChange={(e) => setFilters((f) => ({ ...f, status: (e.target.value || undefined) as TransferStatus | undefined }))}
          >
            <option value="">All</option>
            <option value="PENDING">Pending</option>
            <option value="SUCCESS">Success</option>
            <option value="FAILED">Failed</option>
          </select>
        </label>
      </div>

      {history.isPending && <Loading label="Loading your transactions…" />}
      {history.isError && (
        <ErrorState message={`Could not load your transactions. ${history.error.message}`} onRetry={() => void history.refetch()} />
      )}
      {history.isSuccess && rows.length === 0 && (
        <EmptyState title={filters.direction || filters.status ? 'No transactions match these filters.' : 'No transactions yet.'} />
      )}
      {rows.length > 0 && (
        <ul className="divide-y divide-slate-100" aria-label="Transactions">
          {rows.map((row) => (
            <HistoryItem key={row.id} row={row} />
          ))}
        </ul>
      )}
      <div ref={sentinel} />
      {hasNextPage && (
        <Button variant="secondary" onClick={() => void fetchNextPage()} loading={isFetchingNextPage}>
          Load more
        </Button>
      )}
      {history.isSuccess && rows.length > 0 && !hasNextPage && (
        <p className="text-center text-xs text-slate-600">That is everything.</p>
      )}
    </div>
  );
}
