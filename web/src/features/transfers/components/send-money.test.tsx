import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { authStore } from '@/lib/auth-store';
import { API, contact, envelope, server, transfer } from '@/testing/api';
import { renderWithProviders } from '@/testing/render';
import { SendMoney } from './send-money';

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

function recordLookups() {
  const emails: string[] = [];
  server.events.on('request:start', ({ request }) => {
    const url = new URL(request.url);
    if (url.pathname === '/api/users/lookup/') emails.push(url.searchParams.get('email') ?? '');
  });
  return emails;
}

let counter = 0;
const makeKey = () => `test-key-${++counter}`;

async function fillDetails(amount = '250', email = 'bala@example.com') {
  const user = userEvent.setup();
  await user.type(screen.getByLabelText('Receiver’s email'), email);
  await user.type(screen.getByLabelText('Amount (₹)'), amount);
  return user;
}

async function toConfirm(amount = '250') {
  const user = await fillDetails(amount);
  expect(await screen.findByTestId('payee')).toHaveTextContent('Bala Krishnan');
  await user.click(screen.getByRole('button', { name: 'Continue' }));
  await screen.findByTestId('confirm-payment');
  return user;
}

beforeEach(() => authStore.set({ access: 'A', refresh: 'R' }));
afterEach(() => server.events.removeAllListeners());

describe('choosing the payee', () => {
  it('looks a typed email up once typing pauses and shows the registered name', async () => {
    const lookups = recordLookups();
    renderWithProviders(<SendMoney makeKey={makeKey} />);
    await fillDetails();
    expect(await screen.findByTestId('payee')).toHaveTextContent('Bala Krishnan');
    expect(lookups).toEqual(['bala@example.com']);
    expect(screen.getByLabelText('Receiver’s email')).toHaveAccessibleDescription(/Bala Krishnan/);
  });

  it('says in words that an email has no active account, and never calls a throttle “not found”', async () => {
    let throttled = false;
    server.use(
      http.get(`${API}/api/users/lookup/`, ({ request }) => {
        if (throttled) return HttpResponse.json(envelope('throttled', 'Slow down.'), { status: 429, headers: { 'Retry-After': '30' } });
        const email = new URL(request.url).searchParams.get('email');
        return email === 'me@example.com'
          ? HttpResponse.json(envelope('self_transfer', 'Self.'), { status: 400 })
          : HttpResponse.json(envelope('receiver_not_found', 'No such user.'), { status: 404 });
      }),
    );
    renderWithProviders(<SendMoney makeKey={makeKey} />);
    const user = userEvent.setup();
    const email = screen.getByLabelText('Receiver’s email');
    await user.type(email, 'nobody@example.com');
    expect(await screen.findByTestId('payee-problem')).toHaveTextContent('No active VaultPay account has this email.');

    await user.clear(email);
    await user.type(email, 'me@example.com');
    expect(await screen.findByText('This is your own email. You cannot pay yourself.')).toBeInTheDocument();

    throttled = true;
    await user.clear(email);
    await user.type(email, 'someone@example.com');
    const problem = await screen.findByTestId('payee-problem');
    expect(problem).toHaveTextContent('Too many look-ups in a short time');
    expect(problem).not.toHaveTextContent(/no active|not found/i);
    expect(within(problem).getByRole('button', { name: 'Check again' })).toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Continue' }));
    expect(screen.queryByTestId('confirm-payment')).not.toBeInTheDocument();
  });

  it('offers recent contacts as one-tap choices', async () => {
    server.use(
      http.get(`${API}/api/wallet/contacts/`, () =>
        HttpResponse.json({ results: [contact('Bala Krishnan', 'bala@example.com', { times_paid: 3 }), contact('Chitra Rao', 'chitra@example.com')] }),
      ),
    );
    const lookups = recordLookups();
    renderWithProviders(<SendMoney makeKey={makeKey} />);
    const user = userEvent.setup();
    const list = await screen.findByRole('list', { name: 'Pay someone you paid before' });
    await user.click(within(list).getByRole('button', { name: 'Bala Krishnan, bala@example.com' }));
    expect(screen.getByLabelText('Receiver’s email')).toHaveValue('bala@example.com');
    expect(within(list).getByRole('button', { name: /Bala Krishnan/ })).toHaveAttribute('aria-pressed', 'true');
    expect(screen.getByLabelText('Amount (₹)')).toHaveFocus();
    // Picked, not typed: looked up at once, without waiting for a pause in typing.
    expect(await screen.findByTestId('payee', {}, { timeout: 300 })).toHaveTextContent('Bala Krishnan');
    expect(lookups).toEqual(['bala@example.com']);
  });
});

describe('the amount', () => {
  it('is checked like the server does, and against what is available, before anything is sent', async () => {
    const seen = recordTransfers(() => HttpResponse.json(transfer(), { status: 202 }));
    renderWithProviders(<SendMoney makeKey={makeKey} available="850.00" />);
    const user = await fillDetails('12.345');
    await screen.findByTestId('payee');
    await user.click(screen.getByRole('button', { name: 'Continue' }));
    expect(await screen.findByText(/up to two decimals \(for example/)).toBeInTheDocument();

    await user.clear(screen.getByLabelText('Amount (₹)'));
    await user.type(screen.getByLabelText('Amount (₹)'), '850.01');
    await user.click(screen.getByRole('button', { name: 'Continue' }));
    expect(await screen.findByText('You have ₹850.00 available. Enter that much or less.')).toBeInTheDocument();
    expect(screen.getByLabelText('Amount (₹)')).toHaveAttribute('aria-invalid', 'true');

    await user.clear(screen.getByLabelText('Amount (₹)'));
    await user.type(screen.getByLabelText('Amount (₹)'), '850');
    await user.click(screen.getByRole('button', { name: 'Continue' }));
    expect(await screen.findByTestId('confirm-payment')).toBeInTheDocument();
    expect(seen).toHaveLength(0);
  });
});

describe('confirming and paying', () => {
  it('shows payee, amount and note before paying, then the receipt', async () => {
    const seen = recordTransfers(() => HttpResponse.json(transfer({ note: 'chai' }), { status: 202 }));
    const onSent = vi.fn();
    renderWithProviders(<SendMoney makeKey={makeKey} onSent={onSent} />);
    const user = await fillDetails('99999.5');
    await user.type(screen.getByLabelText('Note (optional)'), 'chai');
    await screen.findByTestId('payee');
    await user.click(screen.getByRole('button', { name: 'Continue' }));
    expect(await screen.findByRole('heading', { name: 'Confirm payment' })).toHaveFocus();
    expect(screen.getByTestId('confirm-payee')).toHaveTextContent('Bala Krishnan');
    expect(screen.getByTestId('confirm-amount')).toHaveTextContent('₹99,999.50');
    expect(screen.getByTestId('confirm-payment')).toHaveTextContent('chai');

    await user.click(screen.getByRole('button', { name: 'Pay ₹99,999.50' }));
    expect(await screen.findByTestId('transfer-result')).toHaveAttribute('data-status', 'PENDING');
    expect(seen).toEqual([{ key: 'test-key-' + counter, body: { receiver_email: 'bala@example.com', amount: '99999.5', note: 'chai' } }]);
    expect(onSent).toHaveBeenCalledTimes(1);
  });

  it('“Change” goes back with the details kept, and the same payment keeps its key', async () => {
    const seen = recordTransfers((n) =>
      n === 1 ? HttpResponse.json(envelope('throttled', 'Slow down.'), { status: 400 }) : HttpResponse.json(transfer(), { status: 202 }),
    );
    renderWithProviders(<SendMoney makeKey={makeKey} />);
    const user = await toConfirm();
    await user.click(screen.getByRole('button', { name: 'Pay ₹250.00' }));
    expect(await screen.findByText('Slow down.')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Change' }));
    expect(screen.getByLabelText('Amount (₹)')).toHaveValue('250');
    await user.click(screen.getByRole('button', { name: 'Continue' }));
    await user.click(await screen.findByRole('button', { name: 'Pay ₹250.00' }));
    await screen.findByTestId('transfer-result');
    expect(seen).toHaveLength(2);
    expect(seen[1]!.key).toBe(seen[0]!.key);
  });

  it('retries a payment that got no answer with the same idempotency key', async () => {
    const seen = recordTransfers((n) =>
      n < 3
        ? HttpResponse.json(envelope('internal_error', 'Internal error.'), { status: 503 })
        : HttpResponse.json(transfer(), { status: 202 }),
    );
    renderWithProviders(<SendMoney makeKey={makeKey} />);
    const user = await toConfirm();
    await user.click(screen.getByRole('button', { name: 'Pay ₹250.00' }));
    expect(await screen.findByTestId('transfer-result', {}, { timeout: 8000 })).toHaveAttribute('data-status', 'PENDING');
    expect(seen).toHaveLength(3);
    expect(new Set(seen.map((s) => s.key)).size).toBe(1);
  });

  it('a double click sends one payment key, never two payments', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const seen = recordTransfers(async () => {
      await gate;
      return HttpResponse.json(transfer(), { status: 202 });
    });
    renderWithProviders(<SendMoney makeKey={makeKey} />);
    const user = await toConfirm();
    await user.dblClick(screen.getByRole('button', { name: 'Pay ₹250.00' }));
    release();
    await screen.findByTestId('transfer-result');
    expect(seen).toHaveLength(1);
  });
});

describe('the receipt', () => {
  it('turns from PENDING to SUCCESS live, with a timeline, a reference to copy and “Pay again”', async () => {
    recordTransfers(() => HttpResponse.json(transfer(), { status: 202 }));
    const { queryClient } = renderWithProviders(<SendMoney makeKey={makeKey} />);
    const user = await toConfirm();
    await user.click(screen.getByRole('button', { name: 'Pay ₹250.00' }));
    const receipt = await screen.findByTestId('transfer-result');
    expect(receipt).toHaveAttribute('data-status', 'PENDING');
    expect(screen.getByTestId('timeline')).toHaveTextContent('Waiting to be settled');

    const settled = transfer({ status: 'SUCCESS', settled_at: '2026-11-25T09:30:01.250000Z' });
    queryClient.setQueryData(['transfers', 'detail', settled.id], settled);
    await waitFor(() => expect(receipt).toHaveAttribute('data-status', 'SUCCESS'));
    expect(receipt).toHaveTextContent('Bala has the money.');
    expect(screen.getByTestId('timeline')).toHaveTextContent(/Accepted at 3:00:00\s?pm/i);
    expect(screen.getByTestId('timeline')).toHaveTextContent(/Settled at 3:00:01\s?pm/i);
    expect(screen.getByTestId('took')).toHaveTextContent('Took 1.3 s');

    await user.click(screen.getByRole('button', { name: 'Copy' }));
    expect(await navigator.clipboard.readText()).toBe(settled.id);
    expect(screen.getByText('Reference copied.')).toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Pay again' }));
    expect(screen.getByLabelText('Receiver’s email')).toHaveValue('bala@example.com');
    expect(screen.getByLabelText('Amount (₹)')).toHaveValue('');
  });

  it('after a failure says why, and “Try again” pays with a new idempotency key', async () => {
    const seen = recordTransfers(() => HttpResponse.json(transfer(), { status: 202 }));
    const { queryClient } = renderWithProviders(<SendMoney makeKey={makeKey} />);
    const user = await toConfirm();
    await user.click(screen.getByRole('button', { name: 'Pay ₹250.00' }));
    await screen.findByTestId('transfer-result');
    const failed = transfer({ status: 'FAILED', failure_code: 'insufficient_funds', settled_at: '2026-11-25T09:30:01.000000Z' });
    queryClient.setQueryData(['transfers', 'detail', failed.id], failed);
    expect(await screen.findByTestId('failure-reason')).toHaveTextContent(
      'Not enough money in the wallet when the payment was processed. No money left your wallet.',
    );
    await user.click(screen.getByRole('button', { name: 'Try again' }));
    await user.click(await screen.findByRole('button', { name: 'Pay ₹250.00' }));
    await waitFor(() => expect(seen).toHaveLength(2));
    expect(seen[1]!.key).not.toBe(seen[0]!.key);
    // The same payment: the amount as the server wrote it back, the same number of paise.
    expect(seen[1]!.body).toEqual({ receiver_email: 'bala@example.com', amount: '250.00' });
  });

  it('a settling event that arrives before the 202 is not overwritten by the PENDING answer', async () => {
    let respond!: () => void;
    const answered = new Promise<void>((r) => (respond = r));
    recordTransfers(async () => {
      await answered;
      return HttpResponse.json(transfer(), { status: 202 });
    });
    const { queryClient } = renderWithProviders(<SendMoney makeKey={makeKey} />);
    const user = await toConfirm();
    await user.click(screen.getByRole('button', { name: 'Pay ₹250.00' }));
    const settled = transfer({ status: 'SUCCESS', settled_at: '2026-11-25T09:30:01.000000Z' });
    queryClient.setQueryData(['transfers', 'detail', settled.id], settled);
    respond();
    expect(await screen.findByTestId('transfer-result')).toHaveAttribute('data-status', 'SUCCESS');
  });
});
