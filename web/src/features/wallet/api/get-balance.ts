import { queryOptions, useQuery } from '@tanstack/react-query';
import { env } from '@/config/env';
import { apiRequest } from '@/lib/api-client';
import { usePollWhileOffline } from '@/lib/live-status';
import { walletKeys } from './keys';
import { BalanceSchema, type Balance } from './schemas';

export async function getBalance(): Promise<Balance> {
  return (await apiRequest('/api/wallet/balance/', BalanceSchema)).data;
}

export const balanceQueryOptions = () => queryOptions({ queryKey: walletKeys.balance(), queryFn: getBalance });

/** The balance; socket events keep it fresh, and it polls every 3 s while the socket is down. */
export function useBalance() {
  const refetchInterval = usePollWhileOffline(env.pollIntervalMs);
  return useQuery({ ...balanceQueryOptions(), refetchInterval });
}
