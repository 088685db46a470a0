import { z } from 'zod';

// zod compiles object schemas with `new Function` when it can, and probes for that on the
// first parse. The page's Content-Security-Policy has no 'unsafe-eval', so the probe would be
// refused and reported as a violation; jitless skips the probe and the compiled fast path.
// Imported first by main.tsx, before any schema is parsed.
z.config({ jitless: true });
