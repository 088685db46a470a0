import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { createLiveSocket } from './live-updates';

/** One notification socket for this tab while the user is logged in. */
export function useLiveSocket(enabled: boolean): void {
  const queryClient = useQueryClient();
  useEffect(() => {
    if (!enabled) return;
    const socket = createLiveSocket(queryClient);
    socket.start();
    return () => socket.stop();
  }, [enabled, queryClient]);
}
