import { failureReason, type Transfer } from '@/features/transfers/api/schemas';
import type { Toast } from '@/lib/toast';
import { formatInr } from '@/lib/money';

/**
 * The toast a settled transfer deserves, for the user `me`: money that arrived, or a payment
 * of theirs that failed after it was sent. Their own successful payments have the receipt.
 */
export function transferToast(t: Transfer, me: string): Omit<Toast, 'id'> | null {
  if (t.status === 'SUCCESS' && t.receiver.id === me) {
    return { tone: 'success', title: `${formatInr(t.amount)} from ${t.sender.full_name}`, body: t.note || undefined };
  }
  if (t.status === 'FAILED' && t.sender.id === me) {
    return {
      tone: 'error',
      title: `Payment of ${formatInr(t.amount)} to ${t.receiver.full_name} failed`,
      body: `${failureReason(t.failure_code)} No money left your wallet.`,
    };
  }
  return null;
}
