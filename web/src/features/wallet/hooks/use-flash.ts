import { useEffect, useRef, useState } from 'react';
import { compareMoney } from '@/lib/money';

export type Flash = 'up' | 'down' | null;

/** 'up' or 'down' for `durationMs` after the amount changes (not on first render). */
export function useFlashOnChange(amount: string | undefined, durationMs = 2000): { flash: Flash; key: number } {
  const previous = useRef<string | undefined>(amount);
  const [state, setState] = useState<{ flash: Flash; key: number }>({ flash: null, key: 0 });

  useEffect(() => {
    const before = previous.current;
    previous.current = amount;
    if (before === undefined || amount === undefined || before === amount) return;
    const direction = compareMoney(amount, before);
    if (direction === 0) return;
    setState((s) => ({ flash: direction > 0 ? 'up' : 'down', key: s.key + 1 }));
  }, [amount]);

  useEffect(() => {
    if (!state.flash) return;
    const t = setTimeout(() => setState((s) => ({ ...s, flash: null })), durationMs);
    return () => clearTimeout(t);
  }, [state.key, state.flash, durationMs]);

  return state;
}
