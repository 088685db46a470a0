import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router';
import { Button } from '@/components/ui/button';
import { SkeletonRows } from '@/components/ui/skeleton';
import { StatusBadge } from '@/components/ui/status-badge';
import { cn } from '@/lib/cn';
import { formatDuration, formatTimeOfDay } from '@/lib/dates';
import { formatInr } from '@/lib/money';
import { useTransfer } from '../api/get-transfer';
import { failureReason, type Transfer } from '../api/schemas';

type Props = {
  id: string;
  /** A new payment to the same person. */
  onPayAgain: (t: Transfer) => void;
  /** The same payment once more, after it failed (with a new idempotency key). */
  onTryAgain: (t: Transfer) => void;
  onDone: () => void;
};

const headline = {
  PENDING: 'Processing your payment…',
  SUCCESS: 'Paid',
  FAILED: 'Payment failed',
} as const;

/** The payment just made, updating live from PENDING to SUCCESS or FAILED (socket events
 * land in the query cache; without a socket it polls). */
export function TransferReceipt({ id, onPayAgain, onTryAgain, onDone }: Props) {
  const transfer = useTransfer(id);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const t = transfer.data;
  return (
    <div data-testid="transfer-result" data-status={t?.status} className="flex min-w-0 flex-col gap-4">
      <h2 ref={heading} tabIndex={-1} className="text-lg font-semibold text-ink outline-none">
        Receipt
      </h2>
      {!t ? (
        <SkeletonRows label="Loading the payment…" lines={2} />
      ) : (
        <>
          <div
            className={cn(
              'flex flex-col items-center gap-1 rounded-xl p-4 text-center',
              t.status === 'SUCCESS' && 'bg-green-50 dark:bg-green-950',
              t.status === 'FAILED' && 'bg-red-50 dark:bg-red-950',
              t.status === 'PENDING' && 'bg-amber-50 dark:bg-amber-950',
            )}
          >
            <StatusBadge status={t.status} />
            <p
              className={cn(
                'text-3xl font-bold break-all tabular-nums text-ink',
                t.status === 'FAILED' && 'text-muted line-through',
              )}
            >
              {formatInr(t.amount)}
            </p>
            <p className="break-words text-ink">
              to <span className="font-semibold">{t.receiver.full_name}</span>
            </p>
            <div role="status" aria-live="polite" className="text-sm">
              <p className="font-semibold text-ink">{headline[t.status]}</p>
              {t.status === 'SUCCESS' && <p className="text-ink">{t.receiver.full_name} has the money.</p>}
              {t.status === 'FAILED' && (
                <p data-testid="failure-reason" className="text-ink">
                  {failureReason(t.failure_code)} No money left your wallet.
                </p>
              )}
            </div>
          </div>
          <Timeline transfer={t} />
          {t.note && (
            <p className="text-sm break-words text-ink">
              <span className="text-muted">Note: </span>
              {t.note}
            </p>
          )}
          <Reference id={t.id} />
          <div className="flex flex-col gap-2 sm:flex-row sm:flex-wrap">
            {t.status === 'FAILED' && <Button onClick={() => onTryAgain(t)}>Try again</Button>}
            {t.status === 'SUCCESS' && <Button onClick={() => onPayAgain(t)}>Pay again</Button>}
            <Button variant="secondary" onClick={onDone}>
              Send another payment
            </Button>
            <Link
              to={`/transfers/${t.id}`}
              className="inline-flex min-h-11 items-center justify-center px-2 text-sm font-medium text-accent underline"
            >
              View details
            </Link>
          </div>
        </>
      )}
    </div>
  );
}

function Timeline({ transfer: t }: { transfer: Transfer }) {
  const settled = t.settled_at;
  return (
    <ol aria-label="Timeline" data-testid="timeline" className="flex flex-col gap-2 border-l-2 border-line pl-4 text-sm">
      <li>
        <span className="text-muted">Accepted at </span>
        <time dateTime={t.created_at} className="text-ink">
          {formatTimeOfDay(t.created_at)}
        </time>
      </li>
      {settled ? (
        <>
          <li>
            <span className="text-muted">{t.status === 'SUCCESS' ? 'Settled at ' : 'Failed at '}</span>
            <time dateTime={settled} className="text-ink">
              {formatTimeOfDay(settled)}
            </time>
          </li>
          <li data-testid="took">
            <span className="text-muted">Took </span>
            <span className="text-ink">{formatDuration(t.created_at, settled)}</span>
          </li>
        </>
      ) : (
        <li className="text-muted">Waiting to be settled…</li>
      )}
    </ol>
  );
}

function Reference({ id }: { id: string }) {
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(id);
      setCopied('yes');
    } catch {
      setCopied('no');
    }
  };
  return (
    <div className="flex min-w-0 flex-col gap-1 text-sm">
      <span className="text-muted">
        Reference
      </span>
      <div className="flex min-w-0 items-center gap-2">
        <code data-testid="reference" className="min-w-0 flex-1 font-mono text-xs break-all text-ink">
          {id}
        </code>
        <Button variant="secondary" onClick={() => void copy()} className="shrink-0">
          Copy
        </Button>
      </div>
      <span aria-live="polite" className="text-xs text-muted">
        {copied === 'yes' ? 'Reference copied.' : copied === 'no' ? 'Could not copy: select the reference and copy it.' : ''}
      </span>
    </div>
  );
}
