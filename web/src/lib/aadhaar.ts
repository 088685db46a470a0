// Aadhaar numbers: 12 digits, first 2-9, last a Verhoeff check digit (as the server checks).

const D = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
  [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
  [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
  [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
  [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
  [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
  [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
  [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
  [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const P = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
  [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
  [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
  [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
  [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
  [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
  [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

/** True when the digit string (check digit last) passes the Verhoeff check. */
export function verhoeffValid(digits: string): boolean {
  if (!/^[0-9]+$/.test(digits)) return false;
  let c = 0;
  const reversed = [...digits].reverse();
  reversed.forEach((ch, i) => {
    c = D[c]![P[i % 8]![Number(ch)]!]!;
  });
  return c === 0;
}

/** The check digit that makes `digits` + it Verhoeff-valid (used by tests to build numbers). */
export function verhoeffCheckDigit(digits: string): string {
  for (let d = 0; d <= 9; d += 1) {
    if (verhoeffValid(`${digits}${d}`)) return String(d);
  }
  throw new Error('unreachable');
}

/** Keeps the digits typed so far (at most 12) and groups them 4-4-4: "2345 6789 0124". */
export function formatAadhaarInput(raw: string): string {
  const digits = raw.replace(/[^0-9]/g, '').slice(0, 12);
  return digits.replace(/(\d{4})(?=\d)/g, '$1 ');
}

export function aadhaarDigits(formatted: string): string {
  return formatted.replace(/ /g, '');
}

export function validateAadhaar(formatted: string): string | null {
  const digits = aadhaarDigits(formatted);
  if (digits === '') return 'Enter your 12-digit Aadhaar number.';
  if (!/^[0-9]{12}$/.test(digits)) return 'An Aadhaar number has 12 digits.';
  if (!/^[2-9]/.test(digits)) return 'An Aadhaar number does not start with 0 or 1.';
  if (!verhoeffValid(digits)) return 'This is not a valid Aadhaar number: check the digits.';
  return null;
}
