import { queryOptions, useQuery } from '@tanstack/react-query';
import { apiRequest, isApiError } from '@/lib/api-client';
import { transferKeys } from './keys';
import { PayeeSchema, type Payee } from './schemas';

/** Close enough to an email to ask the server about; it decides the rest. */
export const EMAIL_SHAPE = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

export async function getPayee(email: string): Promise<Payee> {
  return (await apiRequest(`/api/users/lookup/?email=${encodeURIComponent(email)}`, PayeeSchema)).data;
}

export const payeeQueryOptions = (email: string) =>
  queryOptions({
    queryKey: transferKeys.payee(email.toLowerCase()),
    queryFn: () => getPayee(email),
    staleTime: 60_000,
    // A 404 or 400 is the answer, not a hiccup; a 429 is not retried at once either (the
    // throttle would only refuse again): the user is told to wait.
    retry: (count, error) => count < 2 && isApiError(error) && (error.status === 0 || error.status >= 500),
  });

export type PayeeLookup =
  | { state: 'idle' }
  | { state: 'checking' }
  | { state: 'found'; payee: Payee }
  | { state: 'problem'; message: string; retry?: () => void };

const problems: Record<string, string> = {
  receiver_not_found: 'No active VaultPay account has this email. Check it for typos.',
  self_transfer: 'This is your own email. You cannot pay yourself.',
  validation_error: 'This is not a valid email address.',
};

/** Who `email` belongs to, in words a person can act on. `email` is looked up only when it
 * looks like an email (debounce it before passing it in). */
export function usePayeeLookup(email: string): PayeeLookup {
  const enabled = EMAIL_SHAPE.test(email);
  const query = useQuery({ ...payeeQueryOptions(email), enabled });
  if (!enabled) return { state: 'idle' };
  if (query.data) return { state: 'found', payee: query.data };
  if (query.isError) {
    const error = query.error;
    const retry = () => void query.refetch();
    if (isApiError(error) && error.status === 429) {
      return { state: 'problem', message: 'Too many look-ups in a short time. Wait a moment, then check again.', retry };
    }
    if (isApiError(error) && problems[error.code]) return { state: 'problem', message: problems[error.code]! };
    return { state: 'problem', message: `Could not check this email right now. ${error.message}`, retry };
  }
  return { state: 'checking' };
}
