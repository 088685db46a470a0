import { http, HttpResponse } from 'msw';
import { z } from 'zod';
import { API, envelope, server } from '@/testing/api';
import { apiRequest, onSessionExpired } from './api-client';
import { authStore } from './auth-store';

const Ok = z.object({ ok: z.literal(true) });

describe('token refresh', () => {
  it('refreshes once for all requests that get a 401 at the same time, then retries each', async () => {
    authStore.set({ access: 'old', refresh: 'R1' });
    let refreshes = 0;
    const seenTokens: string[] = [];
    server.use(
      http.get(`${API}/api/thing/:n/`, ({ request }) => {
        const auth = request.headers.get('Authorization') ?? '';
        seenTokens.push(auth);
        return auth === 'Bearer new'
          ? HttpResponse.json({ ok: true })
          : HttpResponse.json(envelope('token_not_valid', 'Token expired.'), { status: 401 });
      }),
      http.post(`${API}/api/users/token/refresh/`, async ({ request }) => {
        refreshes += 1;
        expect(await request.json()).toEqual({ refresh: 'R1' });
        await new Promise((r) => setTimeout(r, 50));
        return HttpResponse.json({ access: 'new', refresh: 'R2' });
      }),
    );
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => apiRequest(`/api/thing/${n}/`, Ok)));
    expect(results.map((r) => r.data.ok)).toEqual([true, true, true, true, true]);
    expect(refreshes).toBe(1);
    expect(seenTokens.filter((t) => t === 'Bearer old')).toHaveLength(5);
    expect(seenTokens.filter((t) => t === 'Bearer new')).toHaveLength(5);
    expect(authStore.get()).toEqual({ access: 'new', refresh: 'R2' });
  });

  it('a refused refresh token ends the session: tokens dropped, listeners told once', async () => {
    authStore.set({ access: 'old', refresh: 'dead' });
    const expired = vi.fn();
    const off = onSessionExpired(expired);
    let refreshes = 0;
    server.use(
      http.get(`${API}/api/thing/:n/`, () => HttpResponse.json(envelope('token_not_valid', 'Expired.'), { status: 401 })),
      http.post(`${API}/api/users/token/refresh/`, () => {
        refreshes += 1;
        return HttpResponse.json(envelope('token_not_valid', 'Token is blacklisted.'), { status: 401 });
      }),
    );
    const outcomes = await Promise.allSettled([1, 2, 3].map((n) => apiRequest(`/api/thing/${n}/`, Ok)));
    off();
    expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
    expect(refreshes).toBe(1);
    expect(expired).toHaveBeenCalledTimes(1);
    expect(authStore.get()).toBeNull();
  });

  it('turns the error envelope into ApiError with code and fields', async () => {
    server.use(
      http.get(`${API}/api/thing/1/`, () =>
        HttpResponse.json(envelope('validation_error', 'Invalid input.', { amount: ['Too many decimals.'] }), { status: 400 }),
      ),
    );
    await expect(apiRequest('/api/thing/1/', Ok, { anonymous: true })).rejects.toMatchObject({
      status: 400,
      code: 'validation_error',
      fields: { amount: ['Too many decimals.'] },
      retryable: false,
    });
  });

  it('refuses an answer that does not match the expected shape', async () => {
    server.use(http.get(`${API}/api/thing/1/`, () => HttpResponse.json({ ok: 'yes' })));
    await expect(apiRequest('/api/thing/1/', Ok, { anonymous: true })).rejects.toMatchObject({ code: 'unexpected_response' });
  });
});
