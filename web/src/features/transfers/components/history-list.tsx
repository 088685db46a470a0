import { useEffect, useRef, useState } from 'react';
import { Button } from '@/components/ui/button';
import { SkeletonRows } from '@/components/ui/skeleton';
import { EmptyState, ErrorState } from '@/components/ui/states';
import { formatDayHeading, istDay } from '@/lib/dates';
import { useDebouncedValue } from '@/lib/use-debounced-value';
import { useHistory } from '../api/get-history';
import type { HistoryFilters, HistoryRow, TransferStatus } from '../api/schemas';
import { useHistoryFilters } from '../hooks/use-history-filters';
import { HistoryItem } from './history-row';

const controlClass =
  'min-h-11 w-full min-w-0 rounded-lg border border-field bg-surface px-3 py-2 text-sm text-ink focus:outline-3 focus:outline-offset-1 focus:outline-brand-600';
const labelClass = 'flex min-w-0 flex-col gap-1 text-sm font-medium text-ink';

/** Rows (newest first) in runs of the same IST calendar day. */
function byDay(rows: HistoryRow[]): Array<{ day: string; rows: HistoryRow[] }> {
  const groups: Array<{ day: string; rows: HistoryRow[] }> = [];
  for (const row of rows) {
    const day = istDay(row.created_at);
    const last = groups.at(-1);
    if (last?.day === day) last.rows.push(row);
    else groups.push({ day, rows: [row] });
  }
  return groups;
}

export function HistoryList() {
  const { filters, update, clear } = useHistoryFilters();
  const history = useHistory(filters);
  const sentinel = useRef<HTMLDivElement>(null);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = history;

  // Infinite scroll: load the next page when the end of the list comes into view. The button
  // below does the same for keyboards and for browsers without IntersectionObserver.
  useEffect(() => {
    const el = sentinel.current;
    if (!el || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting) && hasNextPage && !isFetchingNextPage) void fetchNextPage();
      },
      { rootMargin: '200px' },
    );
    observer.observe(el);
    return () => observer.disconnect();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);

  const rows = history.data?.pages.flatMap((p) => p.results) ?? [];
  const filtered = Object.keys(filters).length > 0;

  return (
    <div className="flex min-w-0 flex-col gap-4">
      <HistoryFilterBar filters={filters} update={update} clear={filtered ? clear : undefined} />

      {history.isPending && <SkeletonRows label="Loading your transactions…" lines={6} />}
      {history.isError && (
        <ErrorState message={`Could not load your transactions. ${history.error.message}`} onRetry={() => void history.refetch()} />
      )}
      {history.isSuccess && rows.length === 0 && (
        <EmptyState title={filtered ? 'No transactions match these filters.' : 'No transactions yet.'} />
      )}
      {rows.length > 0 && (
        <div className="flex flex-col gap-4" data-testid="history">
          {byDay(rows).map((group) => (
            <section key={group.day} aria-labelledby={`day-${group.day}`} data-testid="history-day" data-day={group.day}>
              <h2 id={`day-${group.day}`} className="sticky top-0 bg-surface py-1 text-xs font-semibold tracking-wide text-muted uppercase">
                {formatDayHeading(group.day)}
              </h2>
              <ul className="divide-y divide-line" aria-labelledby={`day-${group.day}`}>
                {group.rows.map((row) => (
                  <HistoryItem key={row.id} row={row} timeOnly />
                ))}
              </ul>
            </section>
          ))}
        </div>
      )}
      <div ref={sentinel} />
      {hasNextPage && (
        <Button variant="secondary" onClick={() => void fetchNextPage()} loading={isFetchingNextPage}>
          Load more
        </Button>
      )}
      {history.isSuccess && rows.length > 0 && !hasNextPage && <p className="text-center text-xs text-muted">That is everything.</p>}
    </div>
  );
}

function HistoryFilterBar({
  filters,
  update,
  clear,
}: {
  filters: HistoryFilters;
  update: (next: Partial<HistoryFilters>) => void;
  clear?: () => void;
}) {
  // The box shows what is typed; the URL (and so the query) follows once typing pauses.
  const [text, setText] = useState(filters.q ?? '');
  const typed = useDebouncedValue(text, 350);
  useEffect(() => {
    if (typed.trim() !== (filters.q ?? '')) update({ q: typed.trim() || undefined });
    // Only a change of what was typed writes the URL.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [typed]);
  // The URL changed by itself (back button, clear): show that.
  useEffect(() => {
    setText((t) => (t.trim() === (filters.q ?? '') ? t : (filters.q ?? '')));
  }, [filters.q]);
  const badRange = filters.from && filters.to && filters.from > filters.to;

  return (
    <div role="search" className="flex min-w-0 flex-col gap-3" aria-label="Filter transactions">
      <label className={labelClass}>
        Search
        <input
          type="search"
          className={controlClass}
          placeholder="Name, email or note"
          maxLength={64}
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
      </label>
      <div className="grid min-w-0 grid-cols-2 gap-3 md:grid-cols-4">
        <label className={labelClass}>
          From
          <input
            type="date"
            className={controlClass}
            value={filters.from ?? ''}
            max={filters.to}
            onChange={(e) => update({ from: e.target.value || undefined })}
          />
        </label>
        <label className={labelClass}>
          To
          <input
            type="date"
            className={controlClass}
            value={filters.to ?? ''}
            min={filters.from}
            onChange={(e) => update({ to: e.target.value || undefined })}
          />
        </label>
        <label className={labelClass}>
          Direction
          <select
            className={controlClass}
            value={filters.direction ?? ''}
            onChange={(e) => update({ direction: (e.target.value || undefined) as HistoryFilters['direction'] })}
          >
            <option value="">All</option>
            <option value="in">Money in</option>
            <option value="out">Money out</option>
          </select>
        </label>
        <label className={labelClass}>
          Status
          <select
            className={controlClass}
            value={filters.status ?? ''}
            onChange={(e) => update({ status: (e.target.value || undefined) as TransferStatus | undefined })}
          >
            <option value="">All</option>
            <option value="PENDING">Pending</option>
            <option value="SUCCESS">Success</option>
            <option value="FAILED">Failed</option>
          </select>
        </label>
      </div>
      {badRange && <p className="text-sm text-negative">The “From” day is after the “To” day, so nothing can match.</p>}
      {clear && (
        <Button variant="ghost" className="self-start" onClick={clear}>
          Clear filters
        </Button>
      )}
    </div>
  );
}
