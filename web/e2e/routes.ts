import type { APIRequestContext, Page } from '@playwright/test';
import { apiToken, expect, loginViaUi, newPerson, payViaApi, registerViaApi, type Person } from './helpers';

/** Every screen of the app, with what shows it is ready. `:transfer` is a transfer's id. */
export const routes = [
  { path: '/login', ready: 'Log in', anonymous: true },
  { path: '/register', ready: 'Create an account', anonymous: true },
  { path: '/', ready: 'Home' },
  { path: '/send', ready: 'Send money' },
  { path: '/history', ready: 'History' },
  { path: '/transfers/:transfer', ready: 'Transfer' },
  { path: '/profile', ready: 'Profile' },
] as const;

export type Route = (typeof routes)[number];

/** A user with history: paid someone, received money, and had a payment fail. */
export async function personWithHistory(request: APIRequestContext, name: string): Promise<{ person: Person; transferId: string }> {
  const person = newPerson(name);
  const other = newPerson('Farah Qureshi');
  await registerViaApi(request, person);
  await registerViaApi(request, other);
  const token = await apiToken(request, person);
  const { id } = await payViaApi(request, token, other.email, '250.00', 'groceries for the week, and a long note that has to wrap');
  await payViaApi(request, token, other.email, '5000.00', 'too much');
  await payViaApi(request, await apiToken(request, other), person.email, '75.50', 'auto fare');
  return { person, transferId: id };
}

/** Opens `route` (logged in unless it is an anonymous page) and waits until it is ready. */
export async function openRoute(page: Page, route: Route, transferId: string): Promise<void> {
  await page.goto(route.path.replace(':transfer', transferId));
  await expect(page.getByRole('heading', { name: route.ready, level: 1 })).toBeVisible();
  // Loaded, not loading: skeletons gone, and on the transfer page its card is there.
  await expect(page.locator('[data-skeleton]')).toHaveCount(0);
  if (route.path.startsWith('/transfers/')) await expect(page.getByTestId('transfer-detail')).toBeVisible();
}

export async function login(page: Page, person: Person): Promise<void> {
  await loginViaUi(page, person);
}
