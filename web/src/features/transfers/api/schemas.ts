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

/** History filters; `q` searches names, emails and notes, `from`/`to` are IST days (YYYY-MM-DD). */
export type HistoryFilters = {
  direction?: 'in' | 'out';
  status?: TransferStatus;
  q?: string;
  from?: string;
  to?: string;
};

/** A person to pay, as the server confirms them (their registered name). */
export const PayeeSchema = z.object({ id: z.string(), full_name: z.string(), email: z.string() });
export type Payee = z.infer<typeof PayeeSchema>;

export const ContactSchema = PayeeSchema.extend({ last_paid_at: z.string(), times_paid: z.number().int() });
export type Contact = z.infer<typeof ContactSchema>;
export const ContactsSchema = z.object({ results: z.array(ContactSchema) });

const reasons: Record<string, string> = {
  insufficient_funds: 'Not enough money in the wallet when the payment was processed.',
  receiver_inactive: 'The receiver’s account is no longer active.',
  sender_inactive: 'Your account is not active, so the payment could not be made.',
  expired: 'The payment could not be processed in time and expired.',
};

/** A failure code in words, for people. */
export function failureReason(code: string | null): string {
  if (!code) return 'The payment could not be made.';
  return reasons[code] ?? `The payment failed (${code.replace(/_/g, ' ')}).`;
}
