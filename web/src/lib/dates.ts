// Every date people see is in India Standard Time, whatever the browser's zone.
const IST = 'Asia/Kolkata';

const dateTime = new Intl.DateTimeFormat('en-IN', { dateStyle: 'medium', timeStyle: 'short', timeZone: IST });
const timeOfDay = new Intl.DateTimeFormat('en-IN', { hour: 'numeric', minute: '2-digit', second: '2-digit', timeZone: IST });
const shortTime = new Intl.DateTimeFormat('en-IN', { hour: 'numeric', minute: '2-digit', timeZone: IST });
const dayMonth = new Intl.DateTimeFormat('en-IN', { day: 'numeric', month: 'short', timeZone: 'UTC' });
// en-GB: "Fri, 20 Nov 2026" (en-IN adds a comma before the year too).
const longDay = new Intl.DateTimeFormat('en-GB', { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
// en-CA writes dates as YYYY-MM-DD.
const isoDay = new Intl.DateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit', timeZone: IST });

export function formatDateTime(iso: string | null): string {
  return iso ? dateTime.format(new Date(iso)) : '—';
}

/** "09:30:05 am" in IST. */
export function formatTimeOfDay(iso: string): string {
  return timeOfDay.format(new Date(iso));
}

/** "9:30 am" in IST. */
export function formatShortTime(iso: string): string {
  return shortTime.format(new Date(iso));
}

/** "2026-11-25" (a calendar day already in IST) -> "25 Nov". */
export function formatDay(isoDate: string): string {
  return dayMonth.format(new Date(`${isoDate}T00:00:00Z`));
}

/** The IST calendar day of an instant: "2026-11-25T20:00:00Z" -> "2026-11-26". */
export function istDay(iso: string | Date): string {
  return isoDay.format(typeof iso === 'string' ? new Date(iso) : iso);
}

/** A day heading: "Today", "Yesterday", or "Tue, 24 Nov 2026". */
export function formatDayHeading(day: string, now: Date = new Date()): string {
  const today = istDay(now);
  if (day === today) return 'Today';
  const yesterday = istDay(new Date(Date.parse(`${today}T12:00:00Z`) - 86_400_000));
  if (day === yesterday) return 'Yesterday';
  return longDay.format(new Date(`${day}T00:00:00Z`));
}

/** How long from one instant to another: "under 0.1 s", "0.8 s", "12 s", "3 min 5 s". */
export function formatDuration(fromIso: string, toIso: string): string {
  const ms = Math.max(0, Date.parse(toIso) - Date.parse(fromIso));
  if (ms < 100) return 'under 0.1 s';
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
