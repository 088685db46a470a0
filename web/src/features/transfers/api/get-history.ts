import { infiniteQueryOptions, useInfiniteQuery } from '@tanstack/react-query';
import { env } from '@/config/env';
import { apiRequest } from '@/lib/api-client';
import { usePollWhileOffline } from '@/lib/live-status';
import { transferKeys } from './keys';
import { HistoryPageSchema, type HistoryFilters, type HistoryPage } from './schemas';

/** The cursor of a `next` link ("...?cursor=abc&direction=in" -> "abc"). */
export function cursorOf(url: string | null): string | null {
  if (!url) return null;
  return new URL(url, 'http://x').searchParams.get('cursor');
}

export async function getHistory(filters: HistoryFilters, cursor: string | null, pageSize = 20): Promise<HistoryPage> {
  const params = new URLSearchParams({ page_size: String(pageSize) });
  if (filters.direction) params.set('direction', filters.direction);
  if (filters.status) params.set('status', filters.status);
  if (filters.q) params.set('q', filters.q);
  if (filters.from) params.set('from', filters.from);
  if (filters.to) params.set('to', filters.to);
  if (cursor) params.set('cursor', cursor);
  return (await apiRequest(`/api/wallet/history/?${params}`, HistoryPageSchema)).data;
}

export const historyQueryOptions = (filters: HistoryFilters, pageSize = 20) =>
  infiniteQueryOptions({
    queryKey: [...transferKeys.history(filters), pageSize] as const,
    queryFn: ({ pageParam }) => getHistory(filters, pageParam, pageSize),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => cursorOf(last.next),
  });

/** History; while it lists PENDING transfers and the socket is down it polls every 3 s. */
export function useHistory(filters: HistoryFilters, pageSize = 20) {
  const poll = usePollWhileOffline(env.pollIntervalMs);
  return useInfiniteQuery({
    ...historyQueryOptions(filters, pageSize),
    refetchInterval: (query) =>
      query.state.data?.pages.some((p) => p.results.some((r) => r.status === 'PENDING')) ? poll : false,
  });
}
