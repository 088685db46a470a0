import { useState, type FormEvent } from 'react';
import { Button } from '@/components/ui/button';
import { Field } from '@/components/ui/field';
import { Alert } from '@/components/ui/states';
import { isApiError } from '@/lib/api-client';
import { validateAmount } from '@/lib/money';
import { useCreateTransfer } from '../api/create-transfer';
import { usePaymentKey } from '../hooks/use-payment-key';
import { TransferStatusPanel } from './transfer-status';

type Values = { receiver_email: string; amount: string; note: string };
type Errors = Partial<Record<keyof Values, string>>;
const empty: Values = { receiver_email: '', amount: '', note: '' };

const messages: Record<string, string> = {
  receiver_not_found: 'No active VaultPay user has that email.',
  self_transfer: 'You cannot send money to yourself.',
};

type Props = {
  maxAmount?: string;
  /** Called once a payment is accepted (the balance's pending_out changes without an event). */
  onSent?: () => void;
  makeKey?: () => string;
};

export function SendMoneyForm({ maxAmount, onSent, makeKey }: Props) {
  const [values, setValues] = useState<Values>(empty);
  const [errors, setErrors] = useState<Errors>({});
  const [sentId, setSentId] = useState<string | null>(null);
  const paymentKey = usePaymentKey(makeKey);
  const create = useCreateTransfer();

  const set = (key: keyof Values) => (e: React.ChangeEvent<HTMLInputElement>) => {
    setValues((v) => ({ ...v, [key]: e.target.value }));
    setErrors((old) => ({ ...old, [key]: undefined }));
    // Different details are a different payment: it gets a key of its own.
    paymentKey.next();
    if (create.isError) create.reset();
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (create.isPending) return;
    const found: Errors = {};
    const email = values.receiver_email.trim();
    if (!/^[^@\s]+@[^@\s]+$/.test(email)) found.receiver_email = 'Enter the receiver’s email address.';
    const amountError = validateAmount(values.amount, maxAmount);
    if (amountError) found.amount = amountError;
    if ([...values.note].length > 140) found.note = 'Keep the note to 140 characters.';
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    create.mutate(
      { receiver_email: email, amount: values.amount, note: values.note, idempotencyKey: paymentKey.current() },
      {
        onSuccess: (transfer) => {
          setSentId(transfer.id);
          onSent?.();
        },
        onError: (error) => {
          if (!isApiError(error)) return;
          const server: Errors = {};
          for (const [field, list] of Object.entries(error.fields)) {
            if (field in values) server[field as keyof Values] = list.join(' ');
          }
          if (messages[error.code]) server.receiver_email = messages[error.code];
          setErrors(server);
        },
      },
    );
  };

  const startAnother = () => {
    setValues(empty);
    setErrors({});
    setSentId(null);
    paymentKey.next();
    create.reset();
  };

  const error = create.error;
  const showGeneral = error && (!isApiError(error) || (Object.keys(error.fields).length === 0 && !messages[error.code]));

  if (sentId) {
    return (
      <div className="flex flex-col gap-4">
        <TransferStatusPanel id={sentId} />
        <Button variant="secondary" onClick={startAnother}>
          Send another payment
        </Button>
      </div>
    );
  }

  return (
    <form onSubmit={submit} className="flex flex-col gap-4" aria-label="Send money" noValidate>
      {showGeneral && <Alert>{error.message}</Alert>}
      <Field
        label="Receiver’s email"
        type="email"
        autoComplete="off"
        value={values.receiver_email}
        onChange={set('receiver_email')}
        error={errors.receiver_email}
      />
      <Field
        label="Amount (₹)"
        type="text"
        inputMode="decimal"
        autoComplete="off"
        placeholder="0.00"
        value={values.amount}
        onChange={set('amount')}
        error={errors.amount}
        hint="Digits with up to two decimals, for example 250 or 99.50"
      />
      <Field label="Note (optional)" value={values.note} onChange={set('note')} error={errors.note} maxLength={140} />
      <Button type="submit" loading={create.isPending}>
        {create.isPending ? 'Sending…' : 'Send money'}
      </Button>
    </form>
  );
}
