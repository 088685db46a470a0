import { useSyncExternalStore } from 'react';

// Whether the notification socket is up. Queries poll while it is not. `polling`: the server
// refused the socket as one too many, so it is retried only after a minute.
export type LiveStatus = 'offline' | 'connecting' | 'live' | 'reconnecting' | 'polling';

let status: LiveStatus = 'offline';
const listeners = new Set<() => void>();

export const liveStatusStore = {
  get: (): LiveStatus => status,
  set(next: LiveStatus): void {
    if (next === status) return;
    status = next;
    listeners.forEach((l) => l());
  },
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

export function useLiveStatus(): LiveStatus {
  return useSyncExternalStore(liveStatusStore.subscribe, liveStatusStore.get, liveStatusStore.get);
}

/** refetchInterval for data the socket keeps fresh: poll only while the socket is down. */
export function usePollWhileOffline(intervalMs: number): number | false {
  return useLiveStatus() === 'live' ? false : intervalMs;
}
