import { useLiveStatus } from '@/lib/live-status';
import { cn } from '@/lib/cn';

const text = {
  live: 'Live',
  connecting: 'Connecting…',
  reconnecting: 'Reconnecting…',
  polling: 'Auto-refresh',
  offline: 'Offline',
} as const;

export function LiveIndicator() {
  const status = useLiveStatus();
  return (
    <span
      role="status"
      data-live={status}
      title={status === 'live' ? 'Updates arrive as they happen' : 'Refreshing every few seconds until the live connection is back'}
      className="inline-flex items-center gap-1.5 rounded-full border border-line bg-surface px-2 py-0.5 text-xs font-medium text-ink"
    >
      <span
        aria-hidden="true"
        className={cn('h-2 w-2 rounded-full', status === 'live' ? 'bg-green-600' : 'animate-pulse bg-amber-500')}
      />
      {text[status]}
    </span>
  );
}
