import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { authStore } from '@/lib/auth-store';
import { API, envelope, server, transfer } from '@/testing/api';
import { renderWithProviders } from '@/testing/render';
import { SendMoneyForm } from './send-money-form';

type Seen = { key: string | null; body: unknown };

function recordTransfers(answer: (n: number) => Response | Promise<Response>) {
  const seen: Seen[] = [];
  server.use(
    http.post(`${API}/api/wallet/transfer/`, async ({ request }) => {
      seen.push({ key: request.headers.get('Idempotency-Key'), body: await request.json() });
      return answer(seen.length);
    }),
    http.get(`${API}/api/wallet/transfers/:id/`, () => HttpResponse.json(transfer())),
  );
  return seen;
}

let counter = 0;
const makeKey = () => `test-key-${++counter}`;

async function fillForm(amount = '250') {
  const user = userEvent.setup();
  await user.type(screen.getByLabelText('Receiver’s email'), 'bala@example.com');
  await user.type(screen.getByLabelText('Amount (₹)'), amount);
  return user;
}

beforeEach(() => authStore.set({ access: 'A', refresh: 'R' }));

describe('SendMoneyForm', () => {
  it('checks the amount like the server does and sends nothing when it is wrong', async () => {
    const seen = recordTransfers(() => HttpResponse.json(transfer(), { status: 202 }));
    renderWithProviders(<SendMoneyForm makeKey={makeKey} />);
    const user = await fillForm('12.345');
    await user.click(screen.getByRole('button', { name: 'Send money' }));
    expect(await screen.findByText(/up to two decimals \(for example/)).toBeInTheDocument();
    await user.clear(screen.getByLabelText('Amount (₹)'));
    await user.type(screen.getByLabelText('Amount (₹)'), '0.00');
    await user.click(screen.getByRole('button', { name: 'Send money' }));
    expect(await screen.findByText('The amount must be more than ₹0.00.')).toBeInTheDocument();
    expect(seen).toHaveLength(0);
  });

  it('retries a payment that got no answer with the same idempotency key', async () => {
    const seen = recordTransfers((n) =>
      n < 3
        ? HttpResponse.json(envelope('internal_error', 'Internal error.'), { status: 503 })
        : HttpResponse.json(transfer(), { status: 202 }),
    );
    renderWithProviders(<SendMoneyForm makeKey={makeKey} />);
    const user = await fillForm();
    await user.click(screen.getByRole('button', { name: 'Send money' }));
    expect(await screen.findByTestId('transfer-result', {}, { timeout: 8000 })).toHaveAttribute('data-status', 'PENDING');
    expect(seen).toHaveLength(3);
    expect(new Set(seen.map((s) => s.key)).size).toBe(1);
    expect(seen[0]!.key).toMatch(/^test-key-\d+$/);
    expect(seen[0]!.body).toEqual({ receiver_email: 'bala@example.com', amount: '250' });
  });

  it('sends the same key again when the user retries after an error, and a new key for a changed payment', async () => {
    const seen = recordTransfers((n) =>
      n === 1 ? HttpResponse.error() : HttpResponse.json(envelope('throttled', 'Slow down.'), { status: 400 }),
    );
    renderWithProviders(<SendMoneyForm makeKey={makeKey} />);
    const user = await fillForm();
    // A lost connection is retried on its own (same key); then the 400 stops the retries.
    await user.click(screen.getByRole('button', { name: 'Send money' }));
    expect(await screen.findByText('Slow down.', {}, { timeout: 8000 })).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Send money' }));
    await waitFor(() => expect(seen).toHaveLength(3));
    expect(new Set(seen.map((s) => s.key)).size).toBe(1);

    await user.type(screen.getByLabelText('Amount (₹)'), '0');
    await user.click(screen.getByRole('button', { name: 'Send money' }));
    await waitFor(() => expect(seen).toHaveLength(4));
    expect(seen[3]!.key).not.toBe(seen[0]!.key);
    expect(seen[3]!.body).toEqual({ receiver_email: 'bala@example.com', amount: '2500' });
  });

  it('a double click sends one payment key, never two payments', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const seen = recordTransfers(async () => {
      await gate;
      return HttpResponse.json(transfer(), { status: 202 });
    });
    renderWithProviders(<SendMoneyForm makeKey={makeKey} />);
    const user = await fillForm();
    const button = screen.getByRole('button', { name: 'Send money' });
    await user.dblClick(button);
    release();
    await screen.findByTestId('transfer-result');
    expect(seen.length).toBeGreaterThanOrEqual(1);
    expect(new Set(seen.map((s) => s.key)).size).toBe(1);
  });

  it('shows the failure reason in words when the payment fails', async () => {
    recordTransfers(() => HttpResponse.json(transfer(), { status: 202 }));
    const { queryClient } = renderWithProviders(<SendMoneyForm makeKey={makeKey} />);
    const user = await fillForm();
    await user.click(screen.getByRole('button', { name: 'Send money' }));
    await screen.findByTestId('transfer-result');
    const t = transfer({ status: 'FAILED', failure_code: 'insufficient_funds', settled_at: '2026-11-25T09:30:01.000000Z' });
    queryClient.setQueryData(['transfers', 'detail', t.id], t);
    expect(await screen.findByTestId('failure-reason')).toHaveTextContent('Not enough money in the wallet');
  });
});

describe('a settling event that arrives before the 202', () => {
  it('is not overwritten by the PENDING answer', async () => {
    let respond!: () => void;
    const answered = new Promise<void>((r) => (respond = r));
    recordTransfers(async () => {
      await answered;
      return HttpResponse.json(transfer(), { status: 202 });
    });
    const { queryClient } = renderWithProviders(<SendMoneyForm makeKey={makeKey} />);
    const user = await fillForm();
    await user.click(screen.getByRole('button', { name: 'Send money' }));
    const settled = transfer({ status: 'SUCCESS', settled_at: '2026-11-25T09:30:01.000000Z' });
    queryClient.setQueryData(['transfers', 'detail', settled.id], settled);
    respond();
    expect(await screen.findByTestId('transfer-result')).toHaveAttribute('data-status', 'SUCCESS');
  });
});
