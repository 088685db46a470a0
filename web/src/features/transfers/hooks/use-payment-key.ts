import { useCallback, useRef } from 'react';
import { newIdempotencyKey } from '@/lib/idempotency';

/**
 * The Idempotency-Key of the payment being made. `current()` makes it on first use and returns
 * the same key until `next()` is called: every retry and every extra click of one payment sends
 * the same key, so the server makes one transfer and replays it to the others. A changed form
 * is another payment (its fingerprint differs), so the form calls `next()` when edited.
 */
export function usePaymentKey(make: () => string = newIdempotencyKey) {
  const key = useRef<string | null>(null);
  const current = useCallback(() => {
    key.current ??= make();
    return key.current;
  }, [make]);
  const next = useCallback(() => {
    key.current = null;
  }, []);
  return { current, next };
}
