import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { http, HttpResponse } from 'msw';
import { verhoeffCheckDigit } from '@/lib/aadhaar';
import { authStore } from '@/lib/auth-store';
import { API, envelope, server } from '@/testing/api';
import { renderWithProviders } from '@/testing/render';
import { RegisterForm } from './register-form';

const body = '98765432101';
const validAadhaar = body + verhoeffCheckDigit(body);
const invalidAadhaar = body + ((Number(verhoeffCheckDigit(body)) + 1) % 10);

async function fill(aadhaar: string) {
  const user = userEvent.setup();
  await user.type(screen.getByLabelText('Full name'), 'Asha Rao');
  await user.type(screen.getByLabelText('Email'), 'asha@example.com');
  await user.type(screen.getByLabelText('Password'), 'a-long-passphrase');
  await user.type(screen.getByLabelText('Aadhaar number'), aadhaar);
  return user;
}

describe('RegisterForm', () => {
  it('groups the Aadhaar number 4-4-4 and refuses a bad check digit without calling the server', async () => {
    const calls = vi.fn();
    server.use(http.post(`${API}/api/users/register/`, () => (calls(), HttpResponse.json({}, { status: 201 }))));
    renderWithProviders(<RegisterForm onRegistered={() => {}} />);
    const user = await fill(invalidAadhaar);
    expect(screen.getByLabelText('Aadhaar number')).toHaveValue(
      `${invalidAadhaar.slice(0, 4)} ${invalidAadhaar.slice(4, 8)} ${invalidAadhaar.slice(8)}`,
    );
    await user.click(screen.getByRole('button', { name: 'Create account' }));
    expect(await screen.findByText(/not a valid Aadhaar number/)).toBeInTheDocument();
    expect(screen.getByLabelText('Aadhaar number')).toHaveAttribute('aria-invalid', 'true');
    await waitFor(() => expect(screen.getByLabelText('Aadhaar number')).toHaveFocus());
    expect(calls).not.toHaveBeenCalled();
  });

  it('shows the server’s field errors from the envelope next to their fields', async () => {
    let sent: unknown;
    server.use(
      http.post(`${API}/api/users/register/`, async ({ request }) => {
        sent = await request.json();
        return HttpResponse.json(
          envelope('validation_error', 'Invalid input.', {
            email: ['A user with this email already exists.'],
            password: ['This password is too common.'],
          }),
          { status: 400 },
        );
      }),
    );
    renderWithProviders(<RegisterForm onRegistered={() => {}} />);
    const user = await fill(validAadhaar);
    await user.click(screen.getByRole('button', { name: 'Create account' }));
    expect(await screen.findByText('A user with this email already exists.')).toBeInTheDocument();
    expect(screen.getByText('This password is too common.')).toBeInTheDocument();
    expect(screen.getByLabelText('Email')).toHaveAttribute('aria-invalid', 'true');
    expect(sent).toEqual({
      full_name: 'Asha Rao',
      email: 'asha@example.com',
      password: 'a-long-passphrase',
      aadhaar: validAadhaar,
    });
  });

  it('registers, then logs in with the same details', async () => {
    server.use(
      http.post(`${API}/api/users/register/`, () =>
        HttpResponse.json(
          {
            id: 'u1', email: 'asha@example.com', full_name: 'Asha Rao', phone: null,
            aadhaar_masked: 'XXXX XXXX 1234', is_staff: false, date_joined: '2026-11-25T09:30:00.000000Z',
          },
          { status: 201 },
        ),
      ),
      http.post(`${API}/api/users/login/`, () =>
        HttpResponse.json({
          access: 'A1', refresh: 'R1',
          user: {
            id: 'u1', email: 'asha@example.com', full_name: 'Asha Rao', phone: null,
            aadhaar_masked: 'XXXX XXXX 1234', is_staff: false, date_joined: '2026-11-25T09:30:00.000000Z',
          },
        }),
      ),
    );
    const onRegistered = vi.fn();
    renderWithProviders(<RegisterForm onRegistered={onRegistered} />);
    const user = await fill(validAadhaar);
    await user.click(screen.getByRole('button', { name: 'Create account' }));
    await waitFor(() => expect(onRegistered).toHaveBeenCalled());
    expect(authStore.get()).toEqual({ access: 'A1', refresh: 'R1' });
  });
});
