import { cn } from '@/lib/cn';

/** A grey block where content will be. */
export function Skeleton({ className }: { className?: string }) {
  return <span aria-hidden="true" data-skeleton="" className={cn('block animate-pulse rounded-md bg-skeleton', className)} />;
}

/** A loading placeholder shaped like `lines` rows of text, announced as `label`. */
export function SkeletonRows({ label, lines = 3, className }: { label: string; lines?: number; className?: string }) {
  return (
    <div role="status" className={cn('flex flex-col gap-3 py-2', className)}>
      <span className="sr-only">{label}</span>
      {Array.from({ length: lines }, (_, i) => (
        <div key={i} className="flex items-center justify-between gap-3">
          <div className="flex min-w-0 flex-1 flex-col gap-2">
            <Skeleton className="h-4 w-2/5" />
            <Skeleton className="h-3 w-3/5" />
          </div>
          <Skeleton className="h-4 w-16 shrink-0" />
        </div>
      ))}
    </div>
  );
}
