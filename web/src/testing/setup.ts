import '@testing-library/jest-dom/vitest';
import '@/lib/zod-jitless';
import { cleanup } from '@testing-library/react';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { resetApiClientForTests } from '@/lib/api-client';
import { authStore } from '@/lib/auth-store';
import { liveStatusStore } from '@/lib/live-status';
import { toastStore } from '@/lib/toast';
import { server } from './api';
import { FakeSocket } from './fake-socket';

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  cleanup();
  server.resetHandlers();
  authStore.set(null);
  localStorage.clear();
  resetApiClientForTests();
  liveStatusStore.set('offline');
  FakeSocket.reset();
  toastStore.clear();
});
afterAll(() => server.close());
