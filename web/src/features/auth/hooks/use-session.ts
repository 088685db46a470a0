import { useSyncExternalStore } from 'react';
import { authStore } from '@/lib/auth-store';

/** True while this browser holds a token pair. */
export function useIsAuthenticated(): boolean {
  return useSyncExternalStore(authStore.subscribe, () => authStore.get() !== null, () => false);
}
