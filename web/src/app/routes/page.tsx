import { useEffect, useRef, type ReactNode } from 'react';

/** A screen: sets the document title and moves focus to its heading (screen readers hear
 * the new page; keyboard users start from its top). */
export function Page({ title, children, actions }: { title: string; children: ReactNode; actions?: ReactNode }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · VaultPay`;
    heading.current?.focus({ preventScroll: true });
  }, [title]);
  return (
    <>
      <div className="flex min-w-0 flex-wrap items-center justify-between gap-2">
        <h1 ref={heading} tabIndex={-1} className="text-2xl font-bold text-ink outline-none">
          {title}
        </h1>
        {actions}
      </div>
      {children}
    </>
  );
}
