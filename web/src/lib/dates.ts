const dateTime = new Intl.DateTimeFormat('en-IN', {
  dateStyle: 'medium',
  timeStyle: 'short',
  timeZone: 'Asia/Kolkata',
});
const dayMonth = new Intl.DateTimeFormat('en-IN', { day: 'numeric', month: 'short', timeZone: 'UTC' });

export function formatDateTime(iso: string | null): string {
  return iso ? dateTime.format(new Date(iso)) : '—';
}

/** "2026-11-25" (a calendar day already in IST) -> "25 Nov". */
export function formatDay(isoDate: string): string {
  return dayMonth.format(new Date(`${isoDate}T00:00:00Z`));
}
