import { Skeleton } from '@/components/ui/skeleton';
import { cn } from '@/lib/cn';
import { useContacts } from '../api/get-contacts';
import type { Contact } from '../api/schemas';
import { Initials } from './initials';

/** The people paid most recently, as one-tap choices. Nothing shows when there are none. */
export function RecentContacts({ selected, onPick }: { selected: string; onPick: (contact: Contact) => void }) {
  const contacts = useContacts();
  if (contacts.isPending) {
    return (
      <div role="status" className="flex gap-3">
        <span className="sr-only">Loading your recent contacts…</span>
        {[0, 1, 2].map((i) => (
          <Skeleton key={i} className="h-16 w-16 rounded-xl" />
        ))}
      </div>
    );
  }
  if (!contacts.data?.length) return null;
  return (
    <div className="flex min-w-0 flex-col gap-2">
      <h2 id="contacts-heading" className="text-sm font-medium text-ink">
        Pay someone you paid before
      </h2>
      <ul aria-labelledby="contacts-heading" className="-mx-1 flex gap-2 overflow-x-auto px-1 pb-1">
        {contacts.data.map((c) => {
          const active = c.email.toLowerCase() === selected.trim().toLowerCase();
          const [first = '', ...rest] = c.full_name.split(/\s+/);
          return (
            <li key={c.id} className="shrink-0">
              <button
                type="button"
                aria-pressed={active}
                onClick={() => onPick(c)}
                className={cn(
                  'flex w-20 flex-col items-center gap-1 rounded-xl border p-2 text-xs hover:bg-sunken focus-visible:outline-2 focus-visible:outline-brand-600',
                  active ? 'border-brand-600 bg-sunken' : 'border-transparent',
                )}
              >
                <Initials name={c.full_name} />
                {/* The first name shows; a screen reader hears the whole name and the email. */}
                <span className="w-full truncate text-center text-ink">{first}</span>
                <span className="sr-only">
                  {rest.length > 0 && ` ${rest.join(' ')}`}, {c.email}
                </span>
              </button>
            </li>
          );
        })}
      </ul>
    </div>
  );
}
