import { useMutation, useQueryClient } from '@tanstack/react-query';
import { apiRequest, isApiError } from '@/lib/api-client';
import { laterTransfer } from './get-transfer';
import { transferKeys } from './keys';
import { TransferSchema, type Transfer } from './schemas';

export type CreateTransferInput = {
  receiver_email: string;
  amount: string;
  note: string;
  /** Made once per payment by the caller and sent unchanged on every retry of it. */
  idempotencyKey: string;
};

export async function createTransfer({ idempotencyKey, ...body }: CreateTransferInput): Promise<Transfer> {
  const payload: Record<string, string> = { receiver_email: body.receiver_email, amount: body.amount };
  if (body.note) payload.note = body.note;
  const { data } = await apiRequest('/api/wallet/transfer/', TransferSchema, {
    method: 'POST',
    body: payload,
    headers: { 'Idempotency-Key': idempotencyKey },
  });
  return data;
}

/** Retries lost answers, 5xx and 429 with the same key: the server replays, never pays twice. */
export const TRANSFER_RETRIES = 3;

export function useCreateTransfer() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: createTransfer,
    retry: (failureCount, error) => failureCount < TRANSFER_RETRIES && isApiError(error) && error.retryable,
    retryDelay: (attempt) => Math.min(300 * 2 ** attempt, 3000),
    onSuccess: (transfer) => {
      // The settling event may have come over the socket before this answer: keep the later state.
      queryClient.setQueryData(transferKeys.detail(transfer.id), (old: Transfer | undefined) =>
        laterTransfer(old, transfer) as Transfer,
      );
      void queryClient.invalidateQueries({ queryKey: transferKeys.lists() });
    },
  });
}
