import { z } from 'zod';

const money = z.string().regex(/^[0-9]+\.[0-9]{2}$/);
const Party = z.object({ id: z.string().nullable(), full_name: z.string(), email: z.string().nullable() });
export const StatusSchema = z.enum(['PENDING', 'SUCCESS', 'FAILED']);
export type TransferStatus = z.infer<typeof StatusSchema>;

export const TransferSchema = z.object({
  id: z.string(),
  status: StatusSchema,
  failure_code: z.string().nullable(),
  amount: money,
  currency: z.literal('INR'),
  note: z.string(),
  sender: Party,
  receiver: Party,
  created_at: z.string(),
  settled_at: z.string().nullable(),
});
export type Transfer = z.infer<typeof TransferSchema>;

export const HistoryRowSchema = z.object({
  id: z.string(),
  direction: z.enum(['in', 'out']),
  counterparty: Party,
  amount: money,
  status: StatusSchema,
  failure_code: z.string().nullable(),
  note: z.string(),
  created_at: z.string(),
  settled_at: z.string().nullable(),
});
export type HistoryRow = z.infer<typeof HistoryRowSchema>;

export const HistoryPageSchema = z.object({
  results: z.array(HistoryRowSchema),
  next: z.string().nullable(),
  previous: z.string().nullable(),
});
export type HistoryPage = z.infer<typeof HistoryPageSchema>;

export type HistoryFilters = { direction?: 'in' | 'out'; status?: TransferStatus };

const reasons: Record<string, string> = {
  insufficient_funds: 'Not enough money in the wallet when the payment was processed.',
  receiver_inactive: 'The receiver’s account is no longer active.',
  sender_inactive: 'Your account is not active, so the payment could not be made.',
  expired: 'The payment could not be processed in time and expired.',
};

/** A failure code in words, for people. */
export function failureReason(code: string | null): string {
  if (!code) return 'The payment failed.';
  return reasons[code] ?? `The payment failed (${code.replace(/_/g, ' ')}).`;
}
