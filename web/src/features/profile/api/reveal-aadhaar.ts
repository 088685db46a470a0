import { useMutation } from '@tanstack/react-query';
import { z } from 'zod';
import { apiRequest } from '@/lib/api-client';

const RevealSchema = z.object({ aadhaar: z.string() });

export async function revealAadhaar(password: string): Promise<string> {
  return (await apiRequest('/api/users/profile/reveal-aadhaar/', RevealSchema, { method: 'POST', body: { password } })).data
    .aadhaar;
}

/** The full number lives only in this mutation's result (never in the query cache) and is
 * dropped with `reset()`. */
export function useRevealAadhaar() {
  return useMutation({ mutationFn: revealAadhaar });
}
