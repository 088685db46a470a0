import { z } from 'zod';

// Build-time settings, checked once at start-up. Runtime settings that differ per deployment
// (demo mode) come from GET /api/config/ instead, so nothing deployment-specific is baked in.
const EnvSchema = z.object({
  VITE_API_URL: z
    .string()
    .default('')
    .refine((v) => v === '' || /^https?:\/\/[^/]+$/.test(v), 'an origin like http://host:port, or empty'),
  MODE: z.string(),
});

const parsed = EnvSchema.safeParse(import.meta.env);
if (!parsed.success) {
  throw new Error(`Invalid build environment: ${z.prettifyError(parsed.error)}`);
}

export const env = {
  apiUrl: parsed.data.VITE_API_URL,
  mode: parsed.data.MODE,
  /** Polling interval for balance and pending transfers while the socket is down. */
  pollIntervalMs: 3000,
  /** How long a revealed Aadhaar stays on screen. */
  revealSeconds: 30,
} as const;
