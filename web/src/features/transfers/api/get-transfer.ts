import { queryOptions, useQuery } from '@tanstack/react-query';
import { env } from '@/config/env';
import { apiRequest } from '@/lib/api-client';
import { usePollWhileOffline } from '@/lib/live-status';
import { transferKeys } from './keys';
import { TransferSchema, type Transfer } from './schemas';

export async function getTransfer(id: string): Promise<Transfer> {
  return (await apiRequest(`/api/wallet/transfers/${encodeURIComponent(id)}/`, TransferSchema)).data;
}

/** A transfer leaves PENDING once and never goes back: an answer that left the server before
 * the settling event arrived must not show PENDING again. */
export function laterTransfer(old: unknown, next: unknown): unknown {
  const a = old as Transfer | undefined;
  const b = next as Transfer;
  return a && b && a.status !== 'PENDING' && b.status === 'PENDING' ? a : b;
}

export const transferQueryOptions = (id: string) =>
  queryOptions({ queryKey: transferKeys.detail(id), queryFn: () => getTransfer(id), structuralSharing: laterTransfer });

/** A transfer; while it is PENDING and the socket is down it polls every 3 s. */
export function useTransfer(id: string) {
  const poll = usePollWhileOffline(env.pollIntervalMs);
  return useQuery({
    ...transferQueryOptions(id),
    refetchInterval: (query) => (query.state.data?.status === 'PENDING' ? poll : false),
  });
}
