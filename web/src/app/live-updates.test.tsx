import { act, screen, waitFor } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { LiveIndicator } from '@/components/ui/live-indicator';
import { Toaster } from '@/components/ui/toaster';
import { TransferReceipt } from '@/features/transfers/components/transfer-receipt';
import { BalanceCard } from '@/features/wallet/components/balance-card';
import { authStore } from '@/lib/auth-store';
import type { LiveSocketOptions } from '@/lib/live-socket';
import { liveStatusStore } from '@/lib/live-status';
import { API, balance, party, server, transfer } from '@/testing/api';
import { FakeSocket } from '@/testing/fake-socket';
import { renderWithProviders, testQueryClient } from '@/testing/render';
import { createLiveSocket } from './live-updates';

function ticketHandler() {
  let n = 0;
  server.use(
    http.post(`${API}/api/realtime/ticket/`, () =>
      HttpResponse.json({ ticket: `t${++n}`, expires_in: 30, url: 'ws://127.0.0.1:8001/ws/notifications/' }),
    ),
  );
}

function startSocket(queryClient = testQueryClient(), options: Partial<LiveSocketOptions> = {}) {
  const socket = createLiveSocket(queryClient, {
    createSocket: (url) => new FakeSocket(url) as unknown as WebSocket,
    baseDelayMs: 10,
    maxDelayMs: 20,
    ...options,
  });
  socket.start();
  return { socket, queryClient };
}

beforeEach(() => {
  authStore.set({ access: 'A', refresh: 'R' });
  ticketHandler();
});

describe('live updates', () => {
  it('a balance.updated event updates the cache and the balance flashes green', async () => {
    const queryClient = testQueryClient();
    renderWithProviders(<BalanceCard />, { queryClient });
    expect(await screen.findByTestId('balance')).toHaveTextContent('₹1,000.00');
    expect(screen.getByTestId('balance')).not.toHaveAttribute('data-flash');

    const { socket } = startSocket(queryClient);
    await waitFor(() => expect(FakeSocket.instances).toHaveLength(1));
    const ws = FakeSocket.latest();
    expect(new URL(ws.url).searchParams.get('ticket')).toBe('t1');
    act(() => ws.receive({ type: 'hello', seq: 7 }));
    expect(liveStatusStore.get()).toBe('live');

    act(() => ws.receive({ type: 'balance.updated', seq: 8, balance: balance('1250.50', '2026-11-25T09:31:00.000000Z') }));
    await waitFor(() => expect(screen.getByTestId('balance')).toHaveTextContent('₹1,250.50'));
    expect(screen.getByTestId('balance')).toHaveAttribute('data-flash', 'up');
    expect(screen.getByText('Balance went up to ₹1,250.50')).toBeInTheDocument();

    act(() => ws.receive({ type: 'balance.updated', seq: 9, balance: balance('50.00', '2026-11-25T09:32:00.000000Z') }));
    await waitFor(() => expect(screen.getByTestId('balance')).toHaveTextContent('₹50.00'));
    expect(screen.getByTestId('balance')).toHaveAttribute('data-flash', 'down');
    // The REST reload that the first hello asked for must not put the older balance back.
    await waitFor(() => expect(queryClient.isFetching()).toBe(0));
    expect(screen.getByTestId('balance')).toHaveTextContent('₹50.00');
    socket.stop();
  });

  it('a transfer.updated event replaces the cached transfer', async () => {
    const { socket, queryClient } = startSocket();
    await waitFor(() => expect(FakeSocket.instances).toHaveLength(1));
    const t = transfer({ status: 'SUCCESS', settled_at: '2026-11-25T09:30:01.000000Z' });
    act(() => FakeSocket.latest().receive({ type: 'hello', seq: 0 }));
    act(() => FakeSocket.latest().receive({ type: 'transfer.updated', seq: 1, transfer: t }));
    expect(queryClient.getQueryData(['transfers', 'detail', t.id])).toEqual(t);
    socket.stop();
  });

  it('reconnects after a drop with after_seq and a fresh ticket, skipping events already applied', async () => {
    const queryClient = testQueryClient();
    const { socket } = startSocket(queryClient);
    await waitFor(() => expect(FakeSocket.instances).toHaveLength(1));
    act(() => FakeSocket.latest().receive({ type: 'hello', seq: 3 }));
    act(() => FakeSocket.latest().receive({ type: 'balance.updated', seq: 4, balance: balance('10.00') }));
    act(() => FakeSocket.latest().drop(1006));
    expect(liveStatusStore.get()).toBe('reconnecting');

    await waitFor(() => expect(FakeSocket.instances).toHaveLength(2));
    const url = new URL(FakeSocket.latest().url);
    expect(url.searchParams.get('after_seq')).toBe('4');
    expect(url.searchParams.get('ticket')).toBe('t2');
    act(() => FakeSocket.latest().receive({ type: 'hello', seq: 5 }));
    act(() => FakeSocket.latest().receive({ type: 'balance.updated', seq: 4, balance: balance('999.00') })); // seen
    expect(queryClient.getQueryData(['wallet', 'balance'])).toMatchObject({ balance: '10.00' });
    act(() => FakeSocket.latest().receive({ type: 'balance.updated', seq: 5, balance: balance('20.00') }));
    expect(queryClient.getQueryData(['wallet', 'balance'])).toMatchObject({ balance: '20.00' });
    expect(liveStatusStore.get()).toBe('live');

    // Too far behind: start over without after_seq.
    act(() => FakeSocket.latest().drop(4410));
    await waitFor(() => expect(FakeSocket.instances).toHaveLength(3));
    expect(new URL(FakeSocket.latest().url).searchParams.has('after_seq')).toBe(false);
    socket.stop();
    expect(liveStatusStore.get()).toBe('offline');
  });
});

describe('toasts', () => {
  // The profile says the user is id-Asha (testing/api.ts).
  const incoming = (seq: number, amount = '500.00') =>
    transfer({
      id: `in-${seq}`,
      status: 'SUCCESS',
      amount,
      sender: party('Bala Krishnan', 'bala@example.com'),
      receiver: party('Asha', 'asha@example.com'),
      settled_at: '2026-11-25T09:30:01.000000Z',
    });

  it('money that arrives raises a polite toast; a payment of mine that failed does too; my own success does not', async () => {
    renderWithProviders(<Toaster />);
    const { socket } = startSocket();
    await waitFor(() => expect(FakeSocket.instances).toHaveLength(1));
    act(() => FakeSocket.latest().receive({ type: 'hello', seq: 0 }));
    act(() => FakeSocket.latest().receive({ type: 'transfer.updated', seq: 1, transfer: incoming(1) }));
    const region = screen.getByRole('status', { name: 'Notifications' });
    expect(region).toHaveAttribute('aria-live', 'polite');
    await waitFor(() => expect(region).toHaveTextContent('₹500.00 from Bala Krishnan'));

    const mine = transfer({ id: 'out-2', status: 'SUCCESS', settled_at: '2026-11-25T09:30:01.000000Z' });
    act(() => FakeSocket.latest().receive({ type: 'transfer.updated', seq: 2, transfer: mine }));
    const failed = transfer({ id: 'out-3', status: 'FAILED', failure_code: 'insufficient_funds', settled_at: '2026-11-25T09:30:01.000000Z' });
    act(() => FakeSocket.latest().receive({ type: 'transfer.updated', seq: 3, transfer: failed }));
    await waitFor(() => expect(region).toHaveTextContent('Payment of ₹250.00 to Bala failed'));
    expect(region).toHaveTextContent('Not enough money in the wallet');
    expect(screen.getAllByTestId('toast')).toHaveLength(2);
    socket.stop();
  });

  it('a reconnect replays only what happened after the last event seen: each raises one toast, nothing older does', async () => {
    renderWithProviders(<Toaster />);
    const { socket } = startSocket();
    await waitFor(() => expect(FakeSocket.instances).toHaveLength(1));
    // The page opens: seq 5 is the latest event, and what came before is in the REST data.
    act(() => FakeSocket.latest().receive({ type: 'hello', seq: 5 }));
    act(() => FakeSocket.latest().receive({ type: 'transfer.updated', seq: 6, transfer: incoming(6, '6.00') }));
    await screen.findByText('₹6.00 from Bala Krishnan');
    act(() => FakeSocket.latest().drop(1006));

    await waitFor(() => expect(FakeSocket.instances).toHaveLength(2));
    expect(new URL(FakeSocket.latest().url).searchParams.get('after_seq')).toBe('6');
    act(() => FakeSocket.latest().receive({ type: 'hello', seq: 7 }));
    // A server replaying too much (or a duplicate) is not news.
    act(() => FakeSocket.latest().receive({ type: 'transfer.updated', seq: 4, transfer: incoming(4, '4.00') }));
    act(() => FakeSocket.latest().receive({ type: 'transfer.updated', seq: 6, transfer: incoming(6, '6.00') }));
    act(() => FakeSocket.latest().receive({ type: 'transfer.updated', seq: 7, transfer: incoming(7, '7.00') }));
    await screen.findByText('₹7.00 from Bala Krishnan');
    expect(screen.getAllByTestId('toast').map((t) => t.textContent)).toEqual([
      expect.stringContaining('₹6.00 from Bala Krishnan'),
      expect.stringContaining('₹7.00 from Bala Krishnan'),
    ]);
    socket.stop();
  });
});

describe('polling fallback', () => {
  it('polls the balance every 3 s while the socket is down and stops while it is live', async () => {
    let calls = 0;
    server.use(http.get(`${API}/api/wallet/balance/`, () => (calls++, HttpResponse.json(balance('1000.00')))));
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      liveStatusStore.set('reconnecting');
      const queryClient = testQueryClient();
      renderWithProviders(<BalanceCard />, { queryClient });
      await screen.findByTestId('balance');
      expect(calls).toBe(1);
      await act(() => vi.advanceTimersByTimeAsync(3000));
      await waitFor(() => expect(calls).toBe(2));
      await act(() => vi.advanceTimersByTimeAsync(3000));
      await waitFor(() => expect(calls).toBe(3));

      act(() => liveStatusStore.set('live'));
      await act(() => vi.advanceTimersByTimeAsync(10_000));
      expect(calls).toBe(3);

      act(() => liveStatusStore.set('reconnecting'));
      await act(() => vi.advanceTimersByTimeAsync(3000));
      await waitFor(() => expect(calls).toBe(4));
    } finally {
      vi.useRealTimers();
    }
  });

  it('polls while the server refuses the socket as one too many (4429 before hello), for a minute', async () => {
    let calls = 0;
    server.use(http.get(`${API}/api/wallet/balance/`, () => (calls++, HttpResponse.json(balance('1000.00')))));
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      const queryClient = testQueryClient();
      renderWithProviders(
        <>
          <LiveIndicator />
          <BalanceCard />
        </>,
        { queryClient },
      );
      const { socket } = startSocket(queryClient, { random: () => 0 });
      await screen.findByTestId('balance');
      await waitFor(() => expect(FakeSocket.instances).toHaveLength(1));
      act(() => FakeSocket.latest().drop(4429));
      expect(screen.getByRole('status')).toHaveTextContent('Auto-refresh');
      const before = calls;

      await act(() => vi.advanceTimersByTimeAsync(30_000));
      await waitFor(() => expect(calls).toBeGreaterThanOrEqual(before + 9));
      expect(FakeSocket.instances).toHaveLength(1);

      await act(() => vi.advanceTimersByTimeAsync(29_000));
      expect(FakeSocket.instances).toHaveLength(1);
      await act(() => vi.advanceTimersByTimeAsync(1_000));
      await waitFor(() => expect(FakeSocket.instances).toHaveLength(2));
      act(() => FakeSocket.latest().receive({ type: 'hello', seq: 0 }));
      expect(screen.getByRole('status')).toHaveTextContent('Live');
      await waitFor(() => expect(queryClient.isFetching()).toBe(0));
      const live = calls;
      await act(() => vi.advanceTimersByTimeAsync(10_000));
      expect(calls).toBe(live);
      socket.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('polls a PENDING transfer while the socket is down, and stops once it is settled', async () => {
    let calls = 0;
    server.use(
      http.get(`${API}/api/wallet/transfers/:id/`, () => {
        calls += 1;
        return HttpResponse.json(
          calls < 3 ? transfer() : transfer({ status: 'SUCCESS', settled_at: '2026-11-25T09:30:05.000000Z' }),
        );
      }),
    );
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      liveStatusStore.set('reconnecting');
      renderWithProviders(<TransferReceipt id={transfer().id} onPayAgain={() => {}} onTryAgain={() => {}} onDone={() => {}} />);
      expect(await screen.findByTestId('transfer-result')).toHaveAttribute('data-status', 'PENDING');
      await act(() => vi.advanceTimersByTimeAsync(3000));
      await act(() => vi.advanceTimersByTimeAsync(3000));
      await waitFor(() => expect(screen.getByTestId('transfer-result')).toHaveAttribute('data-status', 'SUCCESS'));
      expect(calls).toBe(3);
      await act(() => vi.advanceTimersByTimeAsync(10_000));
      expect(calls).toBe(3);
    } finally {
      vi.useRealTimers();
    }
  });
});
