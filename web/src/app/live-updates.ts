import type { QueryClient } from '@tanstack/react-query';
import { z } from 'zod';
import { transferKeys } from '@/features/transfers/api/keys';
import { TransferSchema } from '@/features/transfers/api/schemas';
import { walletKeys } from '@/features/wallet/api/keys';
import { BalanceSchema } from '@/features/wallet/api/schemas';
import { apiRequest } from '@/lib/api-client';
import { LiveSocket, TicketSchema, type LiveSocketOptions, type SocketEvent } from '@/lib/live-socket';

const TransferUpdated = z.object({ type: z.literal('transfer.updated'), seq: z.number(), transfer: TransferSchema });
const BalanceUpdated = z.object({ type: z.literal('balance.updated'), seq: z.number(), balance: BalanceSchema });

/** Applies one socket event to the query cache. */
export function applyEvent(queryClient: QueryClient, event: SocketEvent): void {
  const transfer = TransferUpdated.safeParse(event);
  if (transfer.success) {
    const t = transfer.data.transfer;
    queryClient.setQueryData(transferKeys.detail(t.id), t);
    void queryClient.invalidateQueries({ queryKey: transferKeys.lists() });
    void queryClient.invalidateQueries({ queryKey: [...walletKeys.all, 'cashflow'] });
    return;
  }
  const balance = BalanceUpdated.safeParse(event);
  if (balance.success) {
    // A REST read still in flight may answer with an older balance after this; the balance
    // query keeps the newer of the two by updated_at (newerBalance).
    queryClient.setQueryData(walletKeys.balance(), balance.data.balance);
  }
}

/** Everything the socket keeps fresh, reloaded over REST (after events may have been missed). */
export function resync(queryClient: QueryClient): void {
  void queryClient.invalidateQueries({ queryKey: walletKeys.all });
  void queryClient.invalidateQueries({ queryKey: transferKeys.all });
}

export async function getTicket() {
  return (await apiRequest('/api/realtime/ticket/', TicketSchema, { method: 'POST', body: {} })).data;
}

export function createLiveSocket(queryClient: QueryClient, overrides: Partial<LiveSocketOptions> = {}): LiveSocket {
  return new LiveSocket({
    getTicket,
    onEvent: (event) => applyEvent(queryClient, event),
    onResync: () => resync(queryClient),
    ...overrides,
  });
}
