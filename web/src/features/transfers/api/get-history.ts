import { infiniteQueryOptions, useInfiniteQuery } from '@tanstack/react-query';
import { apiRequest } from '@/lib/api-client';
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

export function useHistory(filters: HistoryFilters, pageSize = 20) {
  return useInfiniteQuery(historyQueryOptions(filters, pageSize));
}
