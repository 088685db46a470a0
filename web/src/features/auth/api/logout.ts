import { useMutation, useQueryClient } from '@tanstack/react-query';
import { z } from 'zod';
import { apiRequest } from '@/lib/api-client';
import { authStore } from '@/lib/auth-store';

export async function logout(): Promise<void> {
  const tokens = authStore.get();
  try {
    if (tokens) {
      await apiRequest('/api/users/logout/', z.unknown(), { method: 'POST', body: { refresh: tokens.refresh } });
    }
  } finally {
    // Even when the server cannot be told, this browser forgets the session.
    authStore.set(null);
  }
}

export function useLogout() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: logout,
    onSettled: () => queryClient.clear(),
  });
}
