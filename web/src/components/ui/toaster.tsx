import { useEffect } from 'react';
import { cn } from '@/lib/cn';
import { toastStore, useToasts, type Toast } from '@/lib/toast';

const SHOWN_MS = 8000;

/** The toasts, in one polite live region so screen readers read each as it arrives. Above
 * the phone's tab bar, at the top right on wider screens. */
export function Toaster() {
  const toasts = useToasts();
  return (
    <div
      role="status"
      aria-live="polite"
      aria-label="Notifications"
      className="pointer-events-none fixed inset-x-0 bottom-20 z-50 flex flex-col items-center gap-2 px-3 sm:inset-x-auto sm:top-4 sm:right-4 sm:bottom-auto sm:items-end"
    >
      {toasts.map((t) => (
        <ToastItem key={t.id} toast={t} />
      ))}
    </div>
  );
}

function ToastItem({ toast }: { toast: Toast }) {
  useEffect(() => {
    const timer = setTimeout(() => toastStore.dismiss(toast.id), SHOWN_MS);
    return () => clearTimeout(timer);
  }, [toast.id]);
  return (
    <div
      data-testid="toast"
      data-tone={toast.tone}
      className={cn(
        'pointer-events-auto flex w-full max-w-sm items-start gap-3 rounded-xl border bg-surface p-3 shadow-lg',
        toast.tone === 'success' ? 'border-green-600' : 'border-red-600',
      )}
    >
      <span
        aria-hidden="true"
        className={cn('mt-1.5 h-2.5 w-2.5 shrink-0 rounded-full', toast.tone === 'success' ? 'bg-green-600' : 'bg-red-600')}
      />
      <div className="min-w-0 flex-1 text-sm">
        <p className="font-semibold break-words text-ink">{toast.title}</p>
        {toast.body && <p className="break-words text-muted">{toast.body}</p>}
      </div>
      <button
        type="button"
        onClick={() => toastStore.dismiss(toast.id)}
        className="-m-1 inline-flex h-11 w-11 shrink-0 items-center justify-center rounded-lg text-muted hover:bg-sunken focus-visible:outline-2 focus-visible:outline-brand-600"
      >
        <span aria-hidden="true">×</span>
        <span className="sr-only">Dismiss</span>
      </button>
    </div>
  );
}
