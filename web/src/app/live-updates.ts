import type { QueryClient } from '@tanstack/react-query';
import { z } from 'zod';
import { profileQueryOptions } from '@/features/profile/api/get-profile';
import { transferKeys } from '@/features/transfers/api/keys';
import { TransferSchema, type Transfer } from '@/features/transfers/api/schemas';
import { walletKeys } from '@/features/wallet/api/keys';
import { BalanceSchema } from '@/features/wallet/api/schemas';
import { apiRequest } from '@/lib/api-client';
import { LiveSocket, TicketSchema, type LiveSocketOptions, type SocketEvent } from '@/lib/live-socket';
import { toastStore } from '@/lib/toast';
import { transferToast } from './notify';

const TransferUpdated = z.object({ type: z.literal('transfer.updated'), seq: z.number(), transfer: TransferSchema });
const BalanceUpdated = z.object({ type: z.literal('balance.updated'), seq: z.number(), balance: BalanceSchema });

/** Applies one socket event to the query cache; a transfer that concerns the user as news
 * (money in, a payment of theirs failed) also raises a toast. */
export function applyEvent(queryClient: QueryClient, event: SocketEvent): void {
  const transfer = TransferUpdated.safeParse(event);
  if (transfer.success) {
    const t = transfer.data.transfer;
    queryClient.setQueryData(transferKeys.detail(t.id), t);
    void queryClient.invalidateQueries({ queryKey: transferKeys.lists() });
    void queryClient.invalidateQueries({ queryKey: transferKeys.contacts() });
    void queryClient.invalidateQueries({ queryKey: [...walletKeys.all, 'cashflow'] });
    void notify(queryClient, t);
    return;
  }
  const balance = BalanceUpdated.safeParse(event);
  if (balance.success) {
    // A REST read still in flight may answer with an older balance after this; the balance
    // query keeps the newer of the two by updated_at (newerBalance).
    queryClient.setQueryData(walletKeys.balance(), balance.data.balance);
  }
}

/**
 * Only events the socket delivers live or replays after a reconnect get here: a first
 * connect replays nothing (what came before the page loaded is in the REST data), so no
 * toast is ever raised for money that arrived before the page was opened.
 */
async function notify(queryClient: QueryClient, t: Transfer): Promise<void> {
  if (t.status === 'PENDING') return;
  let me: string;
  try {
    me = (await queryClient.ensureQueryData(profileQueryOptions())).id;
  } catch {
    return; // who the user is cannot be told: no toast rather than a wrong one
  }
  const toast = transferToast(t, me);
  if (toast) toastStore.push(toast);
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
