/** A fresh Idempotency-Key (36 printable ASCII characters) for one payment. */
export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}
