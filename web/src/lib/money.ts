// Money stays a decimal string ("125.50") from the API to the screen. Comparisons go through
// integer paise as BigInt; formatting hands the string itself to Intl (which formats decimal
// strings exactly), so no value ever passes through a float.

export const AMOUNT_PATTERN = /^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$/;

const inr = new Intl.NumberFormat('en-IN', { style: 'currency', currency: 'INR' });

type StringFormat = (value: string) => string;

/** "125.5" -> "₹125.50"; "-12.00" -> "-₹12.00". */
export function formatInr(amount: string): string {
  return (inr.format as unknown as StringFormat)(amount);
}

/** A decimal string with at most two decimals as integer paise. Throws on anything else. */
export function toPaise(amount: string): bigint {
  const match = /^(-?)([0-9]+)(?:\.([0-9]{1,2}))?$/.exec(amount);
  if (!match) throw new Error(`not a money string: ${amount}`);
  const [, sign, whole = '0', fraction = ''] = match;
  const paise = BigInt(whole) * 100n + BigInt(fraction.padEnd(2, '0'));
  return sign === '-' ? -paise : paise;
}

/** Integer paise back to a money string: 12345n -> "123.45", -5n -> "-0.05". */
export function fromPaise(paise: bigint): string {
  const sign = paise < 0n ? '-' : '';
  const abs = paise < 0n ? -paise : paise;
  return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
}

/** The exact sum of money strings. */
export function sumMoney(amounts: string[]): string {
  return fromPaise(amounts.reduce((total, a) => total + toPaise(a), 0n));
}

export function compareMoney(a: string, b: string): -1 | 0 | 1 {
  const pa = toPaise(a);
  const pb = toPaise(b);
  return pa < pb ? -1 : pa > pb ? 1 : 0;
}

export function isNegative(amount: string): boolean {
  return toPaise(amount) < 0n;
}

/** Checks an amount typed by a user the way the server does (README, "Web app": sending). */
export function validateAmount(input: string, max = '100000.00'): string | null {
  if (input === '') return 'Enter an amount.';
  if (!AMOUNT_PATTERN.test(input)) {
    return 'Use digits only, with up to two decimals (for example 250 or 99.50).';
  }
  if (toPaise(input) <= 0n) return 'The amount must be more than ₹0.00.';
  if (toPaise(input) > toPaise(max)) return `The most you can send at once is ${formatInr(max)}.`;
  return null;
}
