import { compareMoney, formatInr, fromPaise, sumMoney, toPaise, validateAmount } from './money';

describe('validateAmount matches the server rule ^(0|[1-9][0-9]{0,11})(\\.[0-9]{1,2})?$ and > 0', () => {
  it.each(['1', '0.01', '0.5', '250', '99.50', '100000', '100000.00', '123456.7'])('accepts %s', (value) => {
    expect(validateAmount(value, '999999999999.99')).toBeNull();
  });

  it.each([
    ['', 'Enter an amount.'],
    ['0', 'more than'],
    ['0.00', 'more than'],
    ['0.0', 'more than'],
    ['01', 'digits only'],
    ['1.234', 'digits only'],
    ['1.', 'digits only'],
    ['.5', 'digits only'],
    ['-5', 'digits only'],
    ['+5', 'digits only'],
    ['1e3', 'digits only'],
    ['1,000', 'digits only'],
    [' 10', 'digits only'],
    ['10 ', 'digits only'],
    ['１０', 'digits only'],
    ['1234567890123', 'digits only'],
  ])('rejects %j', (value, message) => {
    expect(validateAmount(value)).toContain(message);
  });

  it('refuses more than the maximum transfer', () => {
    expect(validateAmount('100000.01', '100000.00')).toContain('₹1,00,000.00');
    expect(validateAmount('100000.00', '100000.00')).toBeNull();
  });
});

describe('money strings', () => {
  it('formats as Indian rupees without going through a float', () => {
    expect(formatInr('125.5')).toBe('₹125.50');
    expect(formatInr('1234567.89')).toBe('₹12,34,567.89');
    // 2^53 + 1 paise: a float would round this.
    expect(formatInr('90071992547409.93')).toBe('₹9,00,71,99,25,47,409.93');
  });

  it('adds exactly in paise and writes the result back as a money string', () => {
    expect(sumMoney(['0.10', '0.20'])).toBe('0.30');
    expect(sumMoney(['90071992547409.93', '0.07'])).toBe('90071992547410.00');
    expect(sumMoney([])).toBe('0.00');
    expect(fromPaise(-5n)).toBe('-0.05');
  });

  it('compares exactly in paise', () => {
    expect(toPaise('0.1') + toPaise('0.2')).toBe(toPaise('0.30'));
    expect(compareMoney('1000.00', '999.99')).toBe(1);
    expect(compareMoney('5', '5.00')).toBe(0);
    expect(compareMoney('-1.00', '0.00')).toBe(-1);
  });
});
