import { queryOptions, useQuery } from '@tanstack/react-query';
import { z } from 'zod';
import { apiRequest } from '@/lib/api-client';
import { profileKeys } from './keys';

export const ProfileSchema = z.object({
  id: z.string(),
  email: z.string(),
  full_name: z.string(),
  phone: z.string().nullable(),
  aadhaar_masked: z.string(),
  is_staff: z.boolean(),
  date_joined: z.string(),
});
export type Profile = z.infer<typeof ProfileSchema>;

export async function getProfile(): Promise<Profile> {
  return (await apiRequest('/api/users/profile/', ProfileSchema)).data;
}

export const profileQueryOptions = () => queryOptions({ queryKey: profileKeys.me(), queryFn: getProfile, staleTime: 60_000 });

export function useProfile() {
  return useQuery(profileQueryOptions());
}
