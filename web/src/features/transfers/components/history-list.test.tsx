import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { Route, Routes, useLocation } from 'react-router';
import { authStore } from '@/lib/auth-store';
import { API, party, server } from '@/testing/api';
import { renderWithProviders } from '@/testing/render';
import { HistoryList } from './history-list';

const row = (n: number, direction: 'in' | 'out', status = 'SUCCESS', createdAt = '2026-11-25T09:30:00.000000Z') => ({
  id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  direction,
  counterparty: party(`Person ${n}`, `p${n}@example.com`),
  amount: `${n}.50`,
  status,
  failure_code: status === 'FAILED' ? 'insufficient_funds' : null,
  note: '',
  created_at: createdAt,
  settled_at: null,
});

function Where() {
  const location = useLocation();
  return <output data-testid="where">{location.search}</output>;
}

function renderHistory(route = '/history') {
  return renderWithProviders(
    <Routes>
      <Route
        path="/history"
        element={
          <>
            <HistoryList />
            <Where />
          </>
        }
      />
    </Routes>,
    { route },
  );
}

beforeEach(() => authStore.set({ access: 'A', refresh: 'R' }));

describe('HistoryList', () => {
  it('pages through the cursor API, groups rows by IST day, signs and colours amounts', async () => {
    const queries: string[] = [];
    server.use(
      http.get(`${API}/api/wallet/history/`, ({ request }) => {
        const url = new URL(request.url);
        queries.push(url.search);
        if (url.searchParams.get('cursor') === 'page2') {
          return HttpResponse.json({ results: [row(3, 'out', 'SUCCESS', '2026-11-20T10:00:00.000000Z')], next: null, previous: 'x' });
        }
        return HttpResponse.json({
          // 20:00 UTC is already the next day in India.
          results: [row(1, 'in', 'SUCCESS', '2026-11-25T20:00:00.000000Z'), row(2, 'out', 'PENDING', '2026-11-25T09:30:00.000000Z')],
          next: `${API}/api/wallet/history/?cursor=page2&page_size=20`,
          previous: null,
        });
      }),
    );
    const user = userEvent.setup();
    renderHistory();
    const days = await screen.findAllByTestId('history-day');
    expect(days.map((d) => d.dataset.day)).toEqual(['2026-11-26', '2026-11-25']);
    const first = within(days[0]!).getByRole('list');
    expect(within(first).getByRole('link')).toHaveTextContent('From Person 1');
    expect(within(first).getByRole('link').querySelector('.text-positive')).toHaveTextContent('received +₹1.50');
    const second = within(days[1]!).getByRole('link');
    expect(second).toHaveTextContent('To Person 2');
    expect(second.querySelector('.text-negative')).toHaveTextContent('sent −₹2.50');
    expect(second).toHaveTextContent('Pending');

    await user.click(screen.getByRole('button', { name: 'Load more' }));
    await waitFor(() => expect(screen.getAllByTestId('history-day')).toHaveLength(3));
    expect(screen.getByRole('heading', { name: 'Fri, 20 Nov 2026' })).toBeInTheDocument();
    expect(screen.getByText('That is everything.')).toBeInTheDocument();
    expect(queries[1]).toContain('cursor=page2');
  });

  it('shows a failed payment as not sent: muted, struck through, no minus sign, the reason in words', async () => {
    server.use(
      http.get(`${API}/api/wallet/history/`, () => HttpResponse.json({ results: [row(5, 'out', 'FAILED')], next: null, previous: null })),
    );
    renderHistory();
    const link = (await screen.findAllByTestId('history-row'))[0]!;
    expect(link).toHaveTextContent('Not sent: Not enough money in the wallet when the payment was processed.');
    expect(link).not.toHaveTextContent('−');
    expect(link.querySelector('s')).toHaveTextContent('₹5.50');
    expect(link).toHaveTextContent('not sent ₹5.50');
    expect(link.querySelector('.text-negative')).toBeNull();
    expect(link).toHaveTextContent('Failed');
  });

  it('searches and filters by date through the URL, which a reload or a shared link restores', async () => {
    const queries: URLSearchParams[] = [];
    server.use(
      http.get(`${API}/api/wallet/history/`, ({ request }) => {
        const params = new URL(request.url).searchParams;
        queries.push(params);
        return HttpResponse.json({ results: params.get('q') === 'chai' ? [] : [row(1, 'in')], next: null, previous: null });
      }),
    );
    const user = userEvent.setup();
    renderHistory();
    await screen.findAllByTestId('history-row');
    await user.type(screen.getByLabelText('Search'), 'chai');
    expect(await screen.findByText('No transactions match these filters.')).toBeInTheDocument();
    expect(screen.getByTestId('where')).toHaveTextContent('?q=chai');
    // Typing pauses before searching: one request for the word, not one per letter.
    expect(queries.filter((q) => q.has('q')).map((q) => q.get('q'))).toEqual(['chai']);

    await user.type(screen.getByLabelText('From'), '2026-11-01');
    await user.selectOptions(screen.getByLabelText('Direction'), 'in');
    await waitFor(() => expect(screen.getByTestId('where')).toHaveTextContent('?q=chai&from=2026-11-01&direction=in'));
    expect(Object.fromEntries(queries.at(-1)!)).toMatchObject({ q: 'chai', from: '2026-11-01', direction: 'in' });

    await user.click(screen.getByRole('button', { name: 'Clear filters' }));
    await waitFor(() => expect(screen.getByTestId('where')).toHaveTextContent(/^$/));
    expect(screen.getByLabelText('Search')).toHaveValue('');
  });

  it('starts from the filters in the URL and leaves out values the server would refuse', async () => {
    const queries: URLSearchParams[] = [];
    server.use(
      http.get(`${API}/api/wallet/history/`, ({ request }) => {
        queries.push(new URL(request.url).searchParams);
        return HttpResponse.json({ results: [], next: null, previous: null });
      }),
    );
    renderHistory('/history?q=asha&from=2026-11-01&to=2026-11-30&status=BOGUS&direction=sideways');
    await screen.findByText('No transactions match these filters.');
    expect(screen.getByLabelText('Search')).toHaveValue('asha');
    expect(screen.getByLabelText('From')).toHaveValue('2026-11-01');
    expect(screen.getByLabelText('To')).toHaveValue('2026-11-30');
    const sent = Object.fromEntries(queries[0]!);
    expect(sent).toEqual({ page_size: '20', q: 'asha', from: '2026-11-01', to: '2026-11-30' });
  });

  it('shows an error with a retry', async () => {
    server.use(http.get(`${API}/api/wallet/history/`, () => HttpResponse.json({ nope: 1 }, { status: 500 })));
    renderHistory();
    expect(await screen.findByRole('alert')).toHaveTextContent('Could not load your transactions.');
    expect(screen.getByRole('button', { name: 'Try again' })).toBeInTheDocument();
  });
});
