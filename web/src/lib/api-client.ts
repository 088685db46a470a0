import { z } from 'zod';
import { env } from '@/config/env';
import { authStore } from './auth-store';

// One fetch wrapper for the REST API: JSON in and out, the bearer token, the error envelope
// turned into ApiError, responses checked with zod, and the access token refreshed on a 401
// once for all requests that hit it at the same time.

const EnvelopeSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    fields: z.record(z.string(), z.array(z.string())).default({}),
    request_id: z.string().optional(),
  }),
});

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fields: Record<string, string[]>;
  readonly retryable: boolean;

  constructor(status: number, code: string, message: string, fields: Record<string, string[]> = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.fields = fields;
    // Safe to send again (with the same idempotency key): no answer, a 5xx or a throttle.
    this.retryable = status === 0 || status === 429 || status >= 500;
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}

type Options = {
  method?: 'GET' | 'POST';
  body?: unknown;
  headers?: Record<string, string>;
  /** Send without the bearer token (login, register, refresh, config). */
  anonymous?: boolean;
  signal?: AbortSignal;
};

type Listener = () => void;
const sessionExpiredListeners = new Set<Listener>();

/** Called when the refresh token is refused: the app sends the user to the login page. */
export function onSessionExpired(listener: Listener): () => void {
  sessionExpiredListeners.add(listener);
  return () => sessionExpiredListeners.delete(listener);
}

const TokenPairSchema = z.object({ access: z.string(), refresh: z.string() });

let refreshing: Promise<string | null> | null = null;

/** Single flight: every caller that sees a 401 while a refresh runs waits for that refresh. */
export function refreshAccessToken(): Promise<string | null> {
  if (!refreshing) {
    refreshing = doRefresh().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

async function doRefresh(): Promise<string | null> {
  authStore.reload();
  const tokens = authStore.get();
  if (!tokens) return expire();
  let response: Response;
  try {
    response = await fetch(`${env.apiUrl}/api/users/token/refresh/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ refresh: tokens.refresh }),
    });
  } catch {
    throw new ApiError(0, 'network_error', 'Could not reach VaultPay. Check your connection.');
  }
  if (response.status === 401 || response.status === 400) {
    // Another tab may have rotated the pair a moment ago: use theirs if it is newer.
    authStore.reload();
    const now = authStore.get();
    if (now && now.refresh !== tokens.refresh) return now.access;
    return expire();
  }
  if (!response.ok) throw await toApiError(response);
  const pair = TokenPairSchema.parse(await response.json());
  authStore.set(pair);
  return pair.access;
}

function expire(): null {
  authStore.set(null);
  sessionExpiredListeners.forEach((l) => l());
  return null;
}

async function toApiError(response: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: fall through to a generic error
  }
  const parsed = EnvelopeSchema.safeParse(body);
  if (parsed.success) {
    const { code, message, fields } = parsed.data.error;
    return new ApiError(response.status, code, message, fields);
  }
  return new ApiError(response.status, 'unexpected_response', `Unexpected answer from the server (${response.status}).`);
}

export type ApiResponse<T> = { data: T; status: number; headers: Headers };

async function send(path: string, options: Options, token: string | null): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  try {
    return await fetch(`${env.apiUrl}${path}`, {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network_error', 'Could not reach VaultPay. Check your connection.');
  }
}

/** Sends a request and checks the JSON answer against `schema`. */
export async function apiRequest<T>(
  path: string,
  schema: z.ZodType<T>,
  options: Options = {},
): Promise<ApiResponse<T>> {
  const token = options.anonymous ? null : (authStore.get()?.access ?? null);
  let response = await send(path, options, token);
  if (response.status === 401 && !options.anonymous) {
    // Someone may already have refreshed while this request was in flight.
    const current = authStore.get()?.access ?? null;
    const fresh = current && current !== token ? current : await refreshAccessToken();
    if (!fresh) throw new ApiError(401, 'not_authenticated', 'Your session has ended. Please log in again.');
    response = await send(path, options, fresh);
  }
  if (!response.ok) throw await toApiError(response);
  if (response.status === 204 || response.status === 205) {
    return { data: schema.parse(undefined), status: response.status, headers: response.headers };
  }
  const json: unknown = await response.json();
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new ApiError(response.status, 'unexpected_response', 'The server sent an answer this app does not understand.');
  }
  return { data: parsed.data, status: response.status, headers: response.headers };
}

/** For tests: forget any refresh in flight. */
export function resetApiClientForTests(): void {
  refreshing = null;
}
