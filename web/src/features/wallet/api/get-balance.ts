import { queryOptions, useQuery } from '@tanstack/react-query';
import { env } from '@/config/env';
import { apiRequest } from '@/lib/api-client';
import { usePollWhileOffline } from '@/lib/live-status';
import { walletKeys } from './keys';
import { BalanceSchema, type Balance } from './schemas';

export async function getBalance(): Promise<Balance> {
  return (await apiRequest('/api/wallet/balance/', BalanceSchema)).data;
}

/** Keeps the newer of two balances: a REST answer that left the server before a socket event
 * arrived must not put an older balance back on screen. */
export function newerBalance(old: unknown, next: unknown): unknown {
  const a = old as Balance | undefined;
  const b = next as Balance;
  return a && b && a.updated_at > b.updated_at ? a : b;
}

export const balanceQueryOptions = () =>
  queryOptions({ queryKey: walletKeys.balance(), queryFn: getBalance, structuralSharing: newerBalance });

/** The balance; socket events keep it fresh, and it polls every 3 s while the socket is down. */
export function useBalance() {
  const refetchInterval = usePollWhileOffline(env.pollIntervalMs);
  return useQuery({ ...balanceQueryOptions(), refetchInterval });
}
