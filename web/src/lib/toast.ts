import { useSyncExternalStore } from 'react';

// Short notices that come and go by themselves (money arrived, a payment failed). The
// Toaster (components/ui) shows them in a polite live region.

export type Toast = { id: number; tone: 'success' | 'error'; title: string; body?: string };

let toasts: Toast[] = [];
let nextId = 1;
const listeners = new Set<() => void>();

function emit(next: Toast[]): void {
  toasts = next;
  listeners.forEach((l) => l());
}

export const toastStore = {
  get: (): Toast[] => toasts,
  push(toast: Omit<Toast, 'id'>): number {
    const id = nextId++;
    emit([...toasts, { ...toast, id }].slice(-3));
    return id;
  },
  dismiss(id: number): void {
    emit(toasts.filter((t) => t.id !== id));
  },
  clear(): void {
    emit([]);
  },
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

export function useToasts(): Toast[] {
  return useSyncExternalStore(toastStore.subscribe, toastStore.get, toastStore.get);
}
