import { useMutation } from '@tanstack/react-query';
import { apiRequest } from '@/lib/api-client';
import { login } from './login';
import { UserSchema } from './schemas';

export type RegisterInput = {
  email: string;
  password: string;
  full_name: string;
  phone?: string;
  aadhaar: string;
};

export async function register(input: RegisterInput) {
  const body: Record<string, string> = { ...input };
  if (!input.phone) delete body.phone;
  const { data } = await apiRequest('/api/users/register/', UserSchema, { method: 'POST', body, anonymous: true });
  return data;
}

/** Registers, then logs the new user in with the same email and password. */
export function useRegister() {
  return useMutation({
    mutationFn: async (input: RegisterInput) => {
      await register(input);
      return login({ email: input.email, password: input.password });
    },
  });
}
