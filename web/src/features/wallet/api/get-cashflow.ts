import { queryOptions, useQuery } from '@tanstack/react-query';
import { apiRequest } from '@/lib/api-client';
import { walletKeys } from './keys';
import { CashflowSchema, type Cashflow } from './schemas';

export async function getCashflow(days: number): Promise<Cashflow> {
  return (await apiRequest(`/api/wallet/cashflow/?days=${days}`, CashflowSchema)).data;
}

export const cashflowQueryOptions = (days = 30) =>
  queryOptions({ queryKey: walletKeys.cashflow(days), queryFn: () => getCashflow(days) });

export function useCashflow(days = 30) {
  return useQuery(cashflowQueryOptions(days));
}
