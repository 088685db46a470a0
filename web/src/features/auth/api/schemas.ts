import { z } from 'zod';

export const UserSchema = z.object({
  id: z.string(),
  email: z.string(),
  full_name: z.string(),
  phone: z.string().nullable(),
  aadhaar_masked: z.string(),
  is_staff: z.boolean(),
  date_joined: z.string(),
});
export type User = z.infer<typeof UserSchema>;

export const LoginResponseSchema = z.object({ access: z.string(), refresh: z.string(), user: UserSchema });
