import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { Button } from '@/components/ui/button';
import { Field } from '@/components/ui/field';
import { Alert } from '@/components/ui/states';
import { isApiError } from '@/lib/api-client';
import { compareMoney, formatInr, validateAmount } from '@/lib/money';
import { useDebouncedValue } from '@/lib/use-debounced-value';
import { useCreateTransfer } from '../api/create-transfer';
import { EMAIL_SHAPE, usePayeeLookup, type PayeeLookup } from '../api/get-payee';
import type { Payee, Transfer } from '../api/schemas';
import { usePaymentKey } from '../hooks/use-payment-key';
import { Initials } from './initials';
import { PayeeStatus } from './payee-status';
import { RecentContacts } from './recent-contacts';
import { TransferReceipt } from './transfer-receipt';

type Draft = { email: string; amount: string; note: string };
type Errors = Partial<Record<keyof Draft, string>>;
type Step = 'details' | 'confirm' | 'receipt';
const empty: Draft = { email: '', amount: '', note: '' };

/** How long typing pauses before the email is looked up. */
export const LOOKUP_DEBOUNCE_MS = 400;

const serverMessages: Record<string, string> = {
  receiver_not_found: 'No active VaultPay account has this email any more.',
  self_transfer: 'You cannot pay yourself.',
};

type Props = {
  /** The wallet's `available` (balance less pending payments), when known: amounts above it are stopped here. */
  available?: string;
  maxAmount?: string;
  /** Called once a payment is accepted (the balance's pending_out changes without an event). */
  onSent?: () => void;
  makeKey?: () => string;
};

/**
 * Paying someone, as UPI apps do it: pick a recent contact or type an email and see the
 * registered name, enter the amount, confirm, then watch the receipt settle live.
 */
export function SendMoney({ available, maxAmount, onSent, makeKey }: Props) {
  const [draft, setDraft] = useState<Draft>(empty);
  const [errors, setErrors] = useState<Errors>({});
  const [step, setStep] = useState<Step>('details');
  const [sentId, setSentId] = useState<string | null>(null);
  /** An email chosen from the contacts is looked up at once, without the typing pause. */
  const [picked, setPicked] = useState<string | null>(null);
  const paymentKey = usePaymentKey(makeKey);
  const create = useCreateTransfer();
  const amountRef = useRef<HTMLInputElement>(null);

  const email = draft.email.trim();
  const debounced = useDebouncedValue(email, LOOKUP_DEBOUNCE_MS);
  const lookupEmail = picked === email ? email : debounced;
  const looked = usePayeeLookup(lookupEmail);
  const lookup: PayeeLookup =
    lookupEmail === email ? looked : EMAIL_SHAPE.test(email) ? { state: 'checking' } : { state: 'idle' };
  const payee = lookup.state === 'found' ? lookup.payee : null;

  const edit = (next: Partial<Draft>) => {
    setDraft((d) => ({ ...d, ...next }));
    setErrors((old) => ({ ...old, ...Object.fromEntries(Object.keys(next).map((k) => [k, undefined])) }));
    // Different details are a different payment: it gets a key of its own.
    paymentKey.next();
    if (create.isError) create.reset();
  };

  const check = (): Errors => {
    const found: Errors = {};
    if (!EMAIL_SHAPE.test(email)) found.email = 'Enter the receiver’s email address, or pick a contact.';
    else if (lookup.state === 'checking') found.email = 'Still checking who this is. Try again in a moment.';
    else if (lookup.state === 'problem') found.email = lookup.message;
    const amountError = validateAmount(draft.amount, maxAmount);
    if (amountError) found.amount = amountError;
    else if (available !== undefined && compareMoney(draft.amount, available) > 0) {
      found.amount = `You have ${formatInr(available)} available. Enter that much or less.`;
    }
    if ([...draft.note].length > 140) found.note = 'Keep the note to 140 characters.';
    return found;
  };

  const toConfirm = (e: FormEvent) => {
    e.preventDefault();
    const found = check();
    setErrors(found);
    if (Object.keys(found).length === 0) setStep('confirm');
  };

  const pay = () => {
    if (create.isPending || !payee) return;
    create.mutate(
      { receiver_email: email, amount: draft.amount, note: draft.note, idempotencyKey: paymentKey.current() },
      {
        onSuccess: (transfer) => {
          setSentId(transfer.id);
          setStep('receipt');
          onSent?.();
        },
      },
    );
  };

  const restart = (next: Draft, nextStep: Step) => {
    setDraft(next);
    setPicked(next.email || null);
    setErrors({});
    setSentId(null);
    paymentKey.next();
    create.reset();
    setStep(nextStep);
  };
  const fromTransfer = (t: Transfer): Draft => ({ email: t.receiver.email ?? '', amount: t.amount, note: t.note });

  if (step === 'receipt' && sentId) {
    return (
      <TransferReceipt
        id={sentId}
        onPayAgain={(t) => restart({ ...fromTransfer(t), amount: '' }, 'details')}
        onTryAgain={(t) => restart(fromTransfer(t), 'confirm')}
        onDone={() => restart(empty, 'details')}
      />
    );
  }

  if (step === 'confirm' && payee) {
    return (
      <ConfirmPayment
        payee={payee}
        draft={draft}
        paying={create.isPending}
        error={create.error}
        onPay={pay}
        onChange={() => setStep('details')}
      />
    );
  }

  return (
    <form onSubmit={toConfirm} className="flex min-w-0 flex-col gap-4" aria-label="Send money" noValidate>
      <RecentContacts
        selected={draft.email}
        onPick={(c) => {
          edit({ email: c.email });
          setPicked(c.email);
          amountRef.current?.focus();
        }}
      />
      <div className="flex flex-col gap-2">
        <Field
          label="Receiver’s email"
          type="email"
          autoComplete="off"
          spellCheck={false}
          value={draft.email}
          onChange={(e) => edit({ email: e.target.value })}
          error={errors.email}
          describedBy="payee-status"
        />
        <PayeeStatus id="payee-status" lookup={lookup} />
      </div>
      <Field
        ref={amountRef}
        label="Amount (₹)"
        type="text"
        inputMode="decimal"
        autoComplete="off"
        placeholder="0.00"
        value={draft.amount}
        onChange={(e) => edit({ amount: e.target.value })}
        error={errors.amount}
        hint={available !== undefined ? `Available: ${formatInr(available)}` : 'Digits with up to two decimals, for example 250 or 99.50'}
      />
      <Field
        label="Note (optional)"
        value={draft.note}
        onChange={(e) => edit({ note: e.target.value })}
        error={errors.note}
        maxLength={140}
      />
      <Button type="submit">Continue</Button>
    </form>
  );
}

function StepHeading({ children }: { children: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  // A new step: keyboard and screen-reader users start at its heading.
  useEffect(() => ref.current?.focus(), []);
  return (
    <h2 ref={ref} tabIndex={-1} className="text-lg font-semibold text-ink outline-none">
      {children}
    </h2>
  );
}

function ConfirmPayment({
  payee,
  draft,
  paying,
  error,
  onPay,
  onChange,
}: {
  payee: Payee;
  draft: Draft;
  paying: boolean;
  error: Error | null;
  onPay: () => void;
  onChange: () => void;
}) {
  const message = error ? (isApiError(error) && serverMessages[error.code]) || error.message : null;
  return (
    <div className="flex min-w-0 flex-col gap-4" data-testid="confirm-payment">
      <StepHeading>Confirm payment</StepHeading>
      {message && <Alert>{message}</Alert>}
      <div className="flex min-w-0 items-center gap-3">
        <Initials name={payee.full_name} className="h-12 w-12 text-base" />
        <div className="min-w-0">
          <p className="text-xs text-muted">Paying</p>
          <p data-testid="confirm-payee" className="truncate text-lg font-semibold text-ink">
            {payee.full_name}
          </p>
          <p className="truncate text-sm text-muted">{payee.email}</p>
        </div>
      </div>
      <dl className="grid grid-cols-[auto_minmax(0,1fr)] gap-x-4 gap-y-2 rounded-lg bg-sunken p-4 text-sm">
        <dt className="text-muted">Amount</dt>
        <dd data-testid="confirm-amount" className="text-right text-xl font-bold break-all text-ink tabular-nums">
          {formatInr(draft.amount)}
        </dd>
        <dt className="text-muted">Note</dt>
        <dd className="text-right break-words text-ink">{draft.note || '—'}</dd>
      </dl>
      <div className="flex flex-col-reverse gap-2 sm:flex-row sm:justify-end">
        <Button variant="secondary" onClick={onChange} disabled={paying}>
          Change
        </Button>
        <Button onClick={onPay} loading={paying}>
          {paying ? 'Paying…' : `Pay ${formatInr(draft.amount)}`}
        </Button>
      </div>
    </div>
  );
}
