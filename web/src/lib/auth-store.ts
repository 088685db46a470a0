// Where the tokens live. The refresh token is kept in localStorage so a reload (and other tabs)
// keep the session; rotation writes the new pair back, so tabs share the newest one.

export type Tokens = { access: string; refresh: string };

const KEY = 'vaultpay.tokens';
type Listener = () => void;
const listeners = new Set<Listener>();

let cached: Tokens | null | undefined;

function read(): Tokens | null {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return null;
    const value = JSON.parse(raw) as Partial<Tokens>;
    return typeof value.access === 'string' && typeof value.refresh === 'string'
      ? { access: value.access, refresh: value.refresh }
      : null;
  } catch {
    return null;
  }
}

export const authStore = {
  get(): Tokens | null {
    if (cached === undefined) cached = read();
    return cached;
  },
  set(tokens: Tokens | null): void {
    cached = tokens;
    if (tokens) localStorage.setItem(KEY, JSON.stringify(tokens));
    else localStorage.removeItem(KEY);
    listeners.forEach((l) => l());
  },
  /** Another tab may have rotated the pair: drop the in-memory copy and read again. */
  reload(): void {
    cached = undefined;
  },
  subscribe(listener: Listener): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

if (typeof window !== 'undefined') {
  window.addEventListener('storage', (e) => {
    if (e.key === KEY) {
      cached = undefined;
      listeners.forEach((l) => l());
    }
  });
}
