import type { HistoryFilters } from './schemas';

export const transferKeys = {
  all: ['transfers'] as const,
  lists: () => [...transferKeys.all, 'history'] as const,
  history: (filters: HistoryFilters) => [...transferKeys.lists(), filters] as const,
  details: () => [...transferKeys.all, 'detail'] as const,
  detail: (id: string) => [...transferKeys.details(), id] as const,
  contacts: () => [...transferKeys.all, 'contacts'] as const,
  payee: (email: string) => [...transferKeys.all, 'payee', email] as const,
};
