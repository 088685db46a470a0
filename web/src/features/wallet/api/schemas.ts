import { z } from 'zod';

const money = z.string().regex(/^-?[0-9]+\.[0-9]{2}$/);

export const BalanceSchema = z.object({
  balance: money,
  pending_out: money,
  available: money,
  currency: z.literal('INR'),
  updated_at: z.string(),
});
export type Balance = z.infer<typeof BalanceSchema>;

export const CashflowSchema = z.object({
  timezone: z.string(),
  days: z.array(z.object({ date: z.string(), in: money, out: money, balance: money })),
});
export type Cashflow = z.infer<typeof CashflowSchema>;
