import { formatAadhaarInput, validateAadhaar, verhoeffCheckDigit, verhoeffValid } from './aadhaar';

describe('Verhoeff', () => {
  it('accepts the textbook examples and rejects one changed or swapped digit', () => {
    expect(verhoeffValid('2363')).toBe(true);
    expect(verhoeffCheckDigit('236')).toBe('3');
    expect(verhoeffValid('2364')).toBe(false);
    const valid = `23456789012${verhoeffCheckDigit('23456789012')}`;
    expect(verhoeffValid(valid)).toBe(true);
    expect(verhoeffValid(`32${valid.slice(2)}`)).toBe(false); // adjacent transposition
  });
});

describe('Aadhaar input', () => {
  it('groups digits 4-4-4 as they are typed and drops anything else', () => {
    expect(formatAadhaarInput('2')).toBe('2');
    expect(formatAadhaarInput('23456')).toBe('2345 6');
    expect(formatAadhaarInput('234567890124')).toBe('2345 6789 0124');
    expect(formatAadhaarInput('2345-6789-0124-99')).toBe('2345 6789 0124');
    expect(formatAadhaarInput('2345 6789 ab')).toBe('2345 6789');
  });

  it('validates length, first digit and check digit before submitting', () => {
    const body = '23456789012';
    const good = formatAadhaarInput(body + verhoeffCheckDigit(body));
    const bad = formatAadhaarInput(body + ((Number(verhoeffCheckDigit(body)) + 1) % 10));
    expect(validateAadhaar(good)).toBeNull();
    expect(validateAadhaar(bad)).toContain('not a valid Aadhaar');
    expect(validateAadhaar('2345 6789')).toContain('12 digits');
    const startsWithOne = `1${body.slice(1)}`;
    expect(validateAadhaar(startsWithOne + verhoeffCheckDigit(startsWithOne))).toContain('does not start with 0 or 1');
    expect(validateAadhaar('')).toContain('Enter');
  });
});
