import { formatDayHeading, formatDuration, istDay } from './dates';

describe('IST days', () => {
  it('puts an instant on its Indian calendar day', () => {
    expect(istDay('2026-11-25T18:29:59.000000Z')).toBe('2026-11-25');
    expect(istDay('2026-11-25T18:30:00.000000Z')).toBe('2026-11-26');
  });

  it('names today and yesterday, and writes out other days', () => {
    const now = new Date('2026-11-25T20:00:00Z'); // 26 Nov, 01:30 IST
    expect(formatDayHeading('2026-11-26', now)).toBe('Today');
    expect(formatDayHeading('2026-11-25', now)).toBe('Yesterday');
    expect(formatDayHeading('2026-11-20', now)).toBe('Fri, 20 Nov 2026');
  });
});

describe('formatDuration', () => {
  it('says how long settlement took', () => {
    expect(formatDuration('2026-11-25T09:30:00.000000Z', '2026-11-25T09:30:00.040000Z')).toBe('under 0.1 s');
    expect(formatDuration('2026-11-25T09:30:00.000000Z', '2026-11-25T09:30:00.840000Z')).toBe('0.8 s');
    expect(formatDuration('2026-11-25T09:30:00Z', '2026-11-25T09:30:12Z')).toBe('12 s');
    expect(formatDuration('2026-11-25T09:30:00Z', '2026-11-25T09:33:05Z')).toBe('3 min 5 s');
  });
});
