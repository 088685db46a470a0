import { formatPhone } from './phone';

describe('formatPhone', () => {
  it('groups an Indian mobile number 5-5 after the country code', () => {
    expect(formatPhone('+916343043868')).toBe('+91 63430 43868');
  });

  it('leaves other numbers alone and shows a dash for none', () => {
    expect(formatPhone('+4420123456')).toBe('+4420123456');
    expect(formatPhone(null)).toBe('—');
  });
});
