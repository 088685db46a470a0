import { Card } from '@/components/ui/card';
import { Money } from '@/components/ui/money';
import { SkeletonRows } from '@/components/ui/skeleton';
import { ErrorState } from '@/components/ui/states';
import { StatusBadge } from '@/components/ui/status-badge';
import { isApiError } from '@/lib/api-client';
import { formatDateTime } from '@/lib/dates';
import { useTransfer } from '../api/get-transfer';
import { failureReason } from '../api/schemas';

export function TransferDetail({ id }: { id: string }) {
  const transfer = useTransfer(id);
  if (transfer.isPending) return <Card><SkeletonRows label="Loading the transfer…" lines={4} /></Card>;
  if (transfer.isError) {
    const notFound = isApiError(transfer.error) && transfer.error.status === 404;
    return (
      <ErrorState
        message={notFound ? 'There is no transfer with this id that you can see.' : transfer.error.message}
        onRetry={notFound ? undefined : () => void transfer.refetch()}
      />
    );
  }
  const t = transfer.data;
  const party = (p: typeof t.sender) => (p.email ? `${p.full_name} (${p.email})` : p.full_name);
  return (
    <Card aria-labelledby="transfer-heading" data-testid="transfer-detail" data-status={t.status}>
      <div className="flex items-start justify-between gap-2">
        <h2 id="transfer-heading" className="min-w-0 text-3xl font-bold break-all">
          <Money amount={t.amount} notSent={t.status === 'FAILED'} />
        </h2>
        <StatusBadge status={t.status} />
      </div>
      {t.status === 'FAILED' && (
        <p className="mt-2 text-sm text-ink">Not sent: {failureReason(t.failure_code)} No money left the wallet.</p>
      )}
      <dl className="mt-4 grid grid-cols-1 gap-x-3 gap-y-0.5 text-sm sm:grid-cols-[10rem_1fr] sm:gap-y-3 [&>dt:not(:first-child)]:mt-3 sm:[&>dt:not(:first-child)]:mt-0">
        <dt className="text-muted">From</dt>
        <dd className="break-words">{party(t.sender)}</dd>
        <dt className="text-muted">To</dt>
        <dd className="break-words">{party(t.receiver)}</dd>
        <dt className="text-muted">Note</dt>
        <dd className="break-words">{t.note || '—'}</dd>
        <dt className="text-muted">Created</dt>
        <dd>{formatDateTime(t.created_at)}</dd>
        <dt className="text-muted">{t.status === 'FAILED' ? 'Failed' : 'Settled'}</dt>
        <dd>{formatDateTime(t.settled_at)}</dd>
        <dt className="text-muted">Reference</dt>
        <dd className="font-mono text-xs break-all">{t.id}</dd>
      </dl>
    </Card>
  );
}
