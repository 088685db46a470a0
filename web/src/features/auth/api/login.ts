import { useMutation } from '@tanstack/react-query';
import { apiRequest } from '@/lib/api-client';
import { authStore } from '@/lib/auth-store';
import { LoginResponseSchema } from './schemas';

export type LoginInput = { email: string; password: string };

export async function login(input: LoginInput) {
  const { data } = await apiRequest('/api/users/login/', LoginResponseSchema, {
    method: 'POST',
    body: input,
    anonymous: true,
  });
  authStore.set({ access: data.access, refresh: data.refresh });
  return data.user;
}

export function useLogin() {
  return useMutation({ mutationFn: login });
}
