import { useSyncExternalStore } from 'react';

// Light or dark. Without a saved choice the system's colour scheme decides, and a change of
// it applies at once; a choice made here is saved in localStorage and wins from then on.
// public/theme.js applies the same rule before the first paint, so no page flashes.

export type Theme = 'light' | 'dark';
const KEY = 'vaultpay.theme';
const listeners = new Set<() => void>();

function systemQuery(): MediaQueryList | null {
  return typeof window !== 'undefined' && window.matchMedia ? window.matchMedia('(prefers-color-scheme: dark)') : null;
}

function savedChoice(): Theme | null {
  try {
    const value = localStorage.getItem(KEY);
    return value === 'light' || value === 'dark' ? value : null;
  } catch {
    return null;
  }
}

function resolve(): Theme {
  return savedChoice() ?? (systemQuery()?.matches ? 'dark' : 'light');
}

function apply(): void {
  document.documentElement.setAttribute('data-theme', resolve());
  listeners.forEach((l) => l());
}

export const themeStore = {
  get: resolve,
  /** Saves an explicit choice. */
  set(theme: Theme): void {
    try {
      localStorage.setItem(KEY, theme);
    } catch {
      // storage blocked: the choice lasts for this page only
    }
    apply();
  },
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

systemQuery()?.addEventListener('change', apply);
if (typeof window !== 'undefined') {
  window.addEventListener('storage', (e) => {
    if (e.key === KEY) apply();
  });
}

export function useTheme(): Theme {
  return useSyncExternalStore(themeStore.subscribe, themeStore.get, () => 'light');
}
