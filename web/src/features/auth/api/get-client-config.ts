import { queryOptions, useQuery } from '@tanstack/react-query';
import { z } from 'zod';
import { apiRequest } from '@/lib/api-client';
import { authKeys } from './keys';

// GET /api/config/: what this deployment tells an anonymous browser. Demo logins are listed
// only when the server runs in demo mode (local `make run`), never from the bundle.
export const ClientConfigSchema = z.object({
  demo_mode: z.boolean(),
  demo_password: z.string().nullable(),
  demo_logins: z.array(z.object({ email: z.string(), full_name: z.string() })),
  max_transfer_amount: z.string(),
});
export type ClientConfig = z.infer<typeof ClientConfigSchema>;

export async function getClientConfig(): Promise<ClientConfig> {
  return (await apiRequest('/api/config/', ClientConfigSchema, { anonymous: true })).data;
}

export const clientConfigQueryOptions = () =>
  queryOptions({ queryKey: authKeys.config(), queryFn: getClientConfig, staleTime: Infinity });

export function useClientConfig() {
  return useQuery(clientConfigQueryOptions());
}
