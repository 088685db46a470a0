import { act, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { authStore } from '@/lib/auth-store';
import { API, envelope, server } from '@/testing/api';
import { renderWithProviders } from '@/testing/render';
import { ProfileCard } from './profile-card';

beforeEach(() => {
  authStore.set({ access: 'A', refresh: 'R' });
  server.use(
    http.get(`${API}/api/users/profile/`, () =>
      HttpResponse.json({
        id: 'u1', email: 'asha@example.com', full_name: 'Asha Rao', phone: null,
        aadhaar_masked: 'XXXX XXXX 0124', is_staff: false, date_joined: '2026-11-25T09:30:00.000000Z',
      }),
    ),
    http.post(`${API}/api/users/profile/reveal-aadhaar/`, async ({ request }) => {
      const { password } = (await request.json()) as { password: string };
      return password === 'right-password'
        ? HttpResponse.json({ aadhaar: '2345 6789 0124' })
        : HttpResponse.json(envelope('permission_denied', 'Wrong password.'), { status: 403 });
    }),
  );
});

describe('ProfileCard', () => {
  it('shows the masked Aadhaar, reveals it after the password and hides it again after 30 s', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime });
      renderWithProviders(<ProfileCard />);
      expect(await screen.findByTestId('aadhaar')).toHaveTextContent('XXXX XXXX 0124');

      await user.click(screen.getByRole('button', { name: 'Reveal' }));
      await user.type(screen.getByLabelText('Enter your password to see the full number'), 'wrong');
      await user.click(screen.getByRole('button', { name: 'Show number' }));
      expect(await screen.findByText('That password is not right.')).toBeInTheDocument();
      expect(screen.getByTestId('aadhaar')).toHaveTextContent('XXXX XXXX 0124');

      await user.clear(screen.getByLabelText('Enter your password to see the full number'));
      await user.type(screen.getByLabelText('Enter your password to see the full number'), 'right-password');
      await user.click(screen.getByRole('button', { name: 'Show number' }));
      await waitFor(() => expect(screen.getByTestId('aadhaar')).toHaveTextContent('2345 6789 0124'));

      await act(() => vi.advanceTimersByTimeAsync(29_000));
      expect(screen.getByTestId('aadhaar')).toHaveTextContent('2345 6789 0124');
      await act(() => vi.advanceTimersByTimeAsync(1_500));
      await waitFor(() => expect(screen.getByTestId('aadhaar')).toHaveTextContent('XXXX XXXX 0124'));
      expect(screen.queryByText('2345 6789 0124')).not.toBeInTheDocument();
    } finally {
      vi.useRealTimers();
    }
  });
});
