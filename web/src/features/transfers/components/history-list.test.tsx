import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { authStore } from '@/lib/auth-store';
import { API, party, server } from '@/testing/api';
import { renderWithProviders } from '@/testing/render';
import { HistoryList } from './history-list';

const row = (n: number, direction: 'in' | 'out', status = 'SUCCESS') => ({
  id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  direction,
  counterparty: party(`Person ${n}`, `p${n}@example.com`),
  amount: `${n}.50`,
  status,
  failure_code: status === 'FAILED' ? 'insufficient_funds' : null,
  note: '',
  created_at: '2026-11-25T09:30:00.000000Z',
  settled_at: null,
});

beforeEach(() => authStore.set({ access: 'A', refresh: 'R' }));

describe('HistoryList', () => {
  it('pages through the cursor API, signs and colours amounts, and filters', async () => {
    const queries: string[] = [];
    server.use(
      http.get(`${API}/api/wallet/history/`, ({ request }) => {
        const url = new URL(request.url);
        queries.push(url.search);
        if (url.searchParams.get('direction') === 'in') return HttpResponse.json({ results: [], next: null, previous: null });
        if (url.searchParams.get('cursor') === 'page2') {
          return HttpResponse.json({ results: [row(3, 'out', 'FAILED')], next: null, previous: 'x' });
        }
        return HttpResponse.json({
          results: [row(1, 'in'), row(2, 'out', 'PENDING')],
          next: `${API}/api/wallet/history/?cursor=page2&page_size=20`,
          previous: null,
        });
      }),
    );
    const user = userEvent.setup();
    renderWithProviders(<HistoryList />);
    const list = await screen.findByRole('list', { name: 'Transactions' });
    const rows = within(list).getAllByRole('link');
    expect(rows[0]).toHaveTextContent('From Person 1');
    expect(rows[0]).toHaveTextContent('+₹1.50');
    expect(rows[0]!.querySelector('.text-green-700')).toHaveTextContent('received +₹1.50');
    expect(rows[1]!.querySelector('.text-red-700')).toHaveTextContent('sent −₹2.50');
    expect(rows[1]).toHaveTextContent('To Person 2');
    expect(rows[1]).toHaveTextContent('−₹2.50');
    expect(rows[1]).toHaveTextContent('Pending');

    await user.click(screen.getByRole('button', { name: 'Load more' }));
    await waitFor(() => expect(within(list).getAllByRole('link')).toHaveLength(3));
    expect(within(list).getAllByRole('link')[2]).toHaveTextContent('Failed');
    expect(screen.getByText('That is everything.')).toBeInTheDocument();
    expect(queries[1]).toContain('cursor=page2');

    await user.selectOptions(screen.getByLabelText('Direction'), 'in');
    expect(await screen.findByText('No transactions match these filters.')).toBeInTheDocument();
    expect(queries.at(-1)).toContain('direction=in');
  });

  it('shows an error with a retry', async () => {
    server.use(http.get(`${API}/api/wallet/history/`, () => HttpResponse.json({ nope: 1 }, { status: 500 })));
    renderWithProviders(<HistoryList />);
    expect(await screen.findByRole('alert')).toHaveTextContent('Could not load your transactions.');
    expect(screen.getByRole('button', { name: 'Try again' })).toBeInTheDocument();
  });
});
