import { Link } from 'react-router';
import { Money } from '@/components/ui/money';
import { Spinner } from '@/components/ui/spinner';
import { StatusBadge } from '@/components/ui/status-badge';
import { useTransfer } from '../api/get-transfer';
import { failureReason } from '../api/schemas';

/** The live state of a payment just made: PENDING, then SUCCESS or FAILED with the reason. */
export function TransferStatusPanel({ id }: { id: string }) {
  const transfer = useTransfer(id);
  const t = transfer.data;
  if (!t) return null;
  return (
    <div
      data-testid="transfer-result"
      data-status={t.status}
      className="flex flex-col gap-2 rounded-lg border border-slate-200 bg-slate-50 p-4"
    >
      <div className="flex items-center justify-between gap-2">
        <p className="font-medium">
          <Money amount={t.amount} /> to {t.receiver.full_name}
        </p>
        <StatusBadge status={t.status} />
      </div>
      <div role="status" aria-live="polite">
        {t.status === 'PENDING' && (
          <p className="flex items-center gap-2 text-sm text-slate-700">
            <Spinner className="h-4 w-4" /> Processing your payment…
          </p>
        )}
        {t.status === 'SUCCESS' && <p className="text-sm text-green-800">Paid. {t.receiver.full_name} has the money.</p>}
        {t.status === 'FAILED' && (
          <p data-testid="failure-reason" className="text-sm text-red-800">
            {failureReason(t.failure_code)} No money left your wallet.
          </p>
        )}
      </div>
      <Link to={`/transfers/${t.id}`} className="text-sm font-medium text-brand-700 underline">
        View details
      </Link>
    </div>
  );
}
