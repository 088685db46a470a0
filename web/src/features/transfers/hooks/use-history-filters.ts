import { useCallback, useMemo } from 'react';
import { useSearchParams } from 'react-router';
import { StatusSchema, type HistoryFilters } from '../api/schemas';

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Filters from the page's query string (?q=&from=&to=&direction=&status=), so a search can
 * be shared and survives a reload. Values the server would refuse are left out. */
export function parseHistoryFilters(params: URLSearchParams): HistoryFilters {
  const filters: HistoryFilters = {};
  const direction = params.get('direction');
  if (direction === 'in' || direction === 'out') filters.direction = direction;
  const status = StatusSchema.safeParse(params.get('status'));
  if (status.success) filters.status = status.data;
  const q = params.get('q')?.trim();
  if (q) filters.q = [...q].slice(0, 64).join('');
  for (const key of ['from', 'to'] as const) {
    const day = params.get(key);
    if (day && DAY.test(day)) filters[key] = day;
  }
  return filters;
}

export function useHistoryFilters() {
  const [params, setParams] = useSearchParams();
  const filters = useMemo(() => parseHistoryFilters(params), [params]);
  const update = useCallback(
    (next: Partial<HistoryFilters>) =>
      setParams(
        (old) => {
          const merged = new URLSearchParams(old);
          for (const [key, value] of Object.entries(next)) {
            if (value) merged.set(key, value);
            else merged.delete(key);
          }
          return merged;
        },
        { replace: true },
      ),
    [setParams],
  );
  const clear = useCallback(() => setParams(new URLSearchParams(), { replace: true }), [setParams]);
  return { filters, update, clear };
}
