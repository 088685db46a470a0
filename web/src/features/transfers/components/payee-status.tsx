import { Skeleton } from '@/components/ui/skeleton';
import type { PayeeLookup } from '../api/get-payee';
import { Initials } from './initials';

/** Under the email field: who will be paid, as the server knows them, or why nobody. */
export function PayeeStatus({ lookup, id }: { lookup: PayeeLookup; id: string }) {
  return (
    <div id={id} aria-live="polite" className="min-h-14">
      {lookup.state === 'checking' && (
        <div className="flex items-center gap-3" data-testid="payee-checking">
          <Skeleton className="h-10 w-10 rounded-full" />
          <span className="text-sm text-muted">Checking who this is…</span>
        </div>
      )}
      {lookup.state === 'found' && (
        <div data-testid="payee" className="flex min-w-0 items-center gap-3 rounded-lg bg-sunken p-2">
          <Initials name={lookup.payee.full_name} />
          <div className="min-w-0">
            <p className="truncate font-semibold text-ink">
              <span className="sr-only">Paying </span>
              {lookup.payee.full_name}
            </p>
            <p className="truncate text-xs text-muted">Registered name on VaultPay</p>
          </div>
        </div>
      )}
      {lookup.state === 'problem' && (
        <div data-testid="payee-problem" className="flex flex-wrap items-center gap-2 text-sm text-negative">
          <p>{lookup.message}</p>
          {lookup.retry && (
            <button type="button" onClick={lookup.retry} className="min-h-11 font-medium text-accent underline">
              Check again
            </button>
          )}
        </div>
      )}
    </div>
  );
}
