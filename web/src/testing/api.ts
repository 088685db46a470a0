import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';

export const API = 'http://api.test';

export const balance = (amount: string, updatedAt = '2026-11-25T09:30:00.000000Z') => ({
  balance: amount,
  pending_out: '0.00',
  available: amount,
  currency: 'INR',
  updated_at: updatedAt,
});

export const party = (name: string, email: string | null) => ({ id: email ? `id-${name}` : null, full_name: name, email });

export const transfer = (over: Record<string, unknown> = {}) => ({
  id: '7d8f6a3e-0000-4000-8000-000000000001',
  status: 'PENDING',
  failure_code: null,
  amount: '250.00',
  currency: 'INR',
  note: '',
  sender: party('Asha', 'asha@example.com'),
  receiver: party('Bala', 'bala@example.com'),
  created_at: '2026-11-25T09:30:00.000000Z',
  settled_at: null,
  ...over,
});

export const envelope = (code: string, message: string, fields: Record<string, string[]> = {}) => ({
  error: { code, message, fields, request_id: 'req-1' },
});

export const contact = (name: string, email: string, over: Record<string, unknown> = {}) => ({
  id: `id-${name}`,
  full_name: name,
  email,
  last_paid_at: '2026-11-25T09:30:00.000000Z',
  times_paid: 1,
  ...over,
});

/** The people the lookup endpoint knows, by lower-cased email. */
export const people: Record<string, string> = { 'bala@example.com': 'Bala Krishnan', 'asha@example.com': 'Asha Verma' };

export const defaultHandlers = [
  http.get(`${API}/api/wallet/contacts/`, () => HttpResponse.json({ results: [] })),
  http.get(`${API}/api/users/lookup/`, ({ request }) => {
    const email = new URL(request.url).searchParams.get('email')?.toLowerCase() ?? '';
    const name = people[email];
    return name
      ? HttpResponse.json({ id: `id-${name}`, full_name: name, email })
      : HttpResponse.json(envelope('receiver_not_found', 'No such user.'), { status: 404 });
  }),
  http.get(`${API}/api/users/profile/`, () =>
    HttpResponse.json({
      id: 'id-Asha', email: 'asha@example.com', full_name: 'Asha', phone: '+916343043868',
      aadhaar_masked: 'XXXX XXXX 0124', is_staff: false, date_joined: '2026-11-25T09:30:00.000000Z',
    }),
  ),
  http.get(`${API}/api/config/`, () =>
    HttpResponse.json({ demo_mode: false, demo_password: null, demo_logins: [], max_transfer_amount: '100000.00' }),
  ),
  http.get(`${API}/api/wallet/balance/`, () => HttpResponse.json(balance('1000.00'))),
  http.get(`${API}/api/wallet/history/`, () => HttpResponse.json({ results: [], next: null, previous: null })),
  http.get(`${API}/api/wallet/cashflow/`, () => HttpResponse.json({ timezone: 'Asia/Kolkata', days: [] })),
];

export const server = setupServer(...defaultHandlers);
