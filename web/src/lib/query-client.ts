import { QueryClient } from '@tanstack/react-query';
import { isApiError } from './api-client';

export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 10_000,
        retry: (count, error) => count < 2 && (!isApiError(error) || error.retryable),
        refetchOnWindowFocus: true,
      },
      mutations: { retry: false },
    },
  });
}
