import { queryOptions, useQuery } from '@tanstack/react-query';
import { env } from '@/config/env';
import { apiRequest } from '@/lib/api-client';
import { usePollWhileOffline } from '@/lib/live-status';
import { transferKeys } from './keys';
import { TransferSchema, type Transfer } from './schemas';

export async function getTransfer(id: string): Promise<Transfer> {
  return (await apiRequest(`/api/wallet/transfers/${encodeURIComponent(id)}/`, TransferSchema)).data;
}

export const transferQueryOptions = (id: string) =>
  queryOptions({ queryKey: transferKeys.detail(id), queryFn: () => getTransfer(id) });

/** A transfer; while it is PENDING and the socket is down it polls every 3 s. */
export function useTransfer(id: string) {
  const poll = usePollWhileOffline(env.pollIntervalMs);
  return useQuery({
    ...transferQueryOptions(id),
    refetchInterval: (query) => (query.state.data?.status === 'PENDING' ? poll : false),
  });
}
