import { fileURLToPath } from 'node:url';
import type { Page } from '@playwright/test';
import { apiBalance, expect, minus, payViaApi, test, waitLive } from './helpers';

// Every screen at desktop and phone width, in the light and the dark theme, logged in as a
// demo user (demo mode is on in the stack), saved under docs/screenshots/ for the README:
// <screen>-<desktop|phone>[-dark].png.
const OUT = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const viewports = [
  { name: 'desktop', width: 1280, height: 800, user: 1, payee: 2 },
  { name: 'phone', width: 390, height: 844, user: 2, payee: 3 },
] as const;
const demoEmail = (n: number) => `demo${String(n).padStart(2, '0')}@vaultpay.test`;
const DEMO_PASSWORD = 'rupee-tiger-2026';

/** The whole page: the window is made as tall as the page for the picture, so the fixed tab
 * bar and toasts sit at its bottom as on a phone, not across the middle. */
async function shot(page: Page, screen: string, viewport: string, dark: boolean): Promise<void> {
  await page.evaluate(() => document.fonts.ready);
  await expect(page.locator('[data-skeleton]')).toHaveCount(0);
  await page.mouse.move(0, 0);
  const size = page.viewportSize()!;
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.setViewportSize({ width: size.width, height: Math.max(size.height, height) });
  await page.screenshot({ path: `${OUT}${screen}-${viewport}${dark ? '-dark' : ''}.png`, animations: 'disabled' });
  await page.setViewportSize(size);
}

/** The screen as it is, then in the other theme (switched with the app's own toggle), then back. */
async function both(page: Page, screen: string, viewport: string): Promise<void> {
  await shot(page, screen, viewport, false);
  await page.getByRole('button', { name: 'Use dark theme' }).click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await shot(page, screen, viewport, true);
  await page.getByRole('button', { name: 'Use light theme' }).click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
}

for (const vp of viewports) {
  test(`screenshots at ${vp.name} width`, async ({ browser, request }) => {
    const context = await browser.newContext({
      viewport: { width: vp.width, height: vp.height },
      deviceScaleFactor: 1,
      colorScheme: 'light',
      locale: 'en-IN',
      timezoneId: 'Asia/Kolkata',
    });
    const page = await context.newPage();
    const user = demoEmail(vp.user);
    const payee = demoEmail(vp.payee);

    await page.goto('/register');
    await expect(page.getByRole('heading', { name: 'Create an account' })).toBeVisible();
    await page.getByLabel('Aadhaar number').pressSequentially('23456789');
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect(page.getByText('An Aadhaar number has 12 digits.')).toBeVisible();
    await both(page, 'register', vp.name);

    await page.goto('/login');
    const demo = page.getByRole('region', { name: 'Demo mode' });
    await expect(demo.getByRole('button').first()).toBeVisible();
    await both(page, 'login', vp.name);
    await page.getByLabel('Email').fill(user);
    await page.getByLabel('Password').fill(DEMO_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();

    await expect(page.getByRole('heading', { name: 'Home', level: 1 })).toBeVisible();
    await waitLive(page);
    await expect(page.getByTestId('balance')).toBeVisible();
    await expect(page.getByTestId('cashflow-chart').locator('.recharts-bar-rectangle').first()).toBeAttached();
    await expect(page.getByRole('list', { name: 'Recent transactions' })).toBeVisible();
    await both(page, 'dashboard', vp.name);

    await page.getByRole('link', { name: 'Send', exact: true }).click();
    await page.getByLabel('Receiver’s email').fill(payee);
    await expect(page.getByTestId('payee')).toBeVisible();
    await page.getByLabel('Amount (₹)').fill('12.5');
    await page.getByLabel('Note (optional)').fill('chai');
    await both(page, 'send', vp.name);
    await page.getByRole('button', { name: 'Continue' }).click();
    await expect(page.getByTestId('confirm-payment')).toBeVisible();
    await both(page, 'send-confirm', vp.name);
    await page.getByRole('button', { name: 'Pay ₹12.50' }).click();
    await expect(page.getByTestId('transfer-result')).toHaveAttribute('data-status', 'SUCCESS');
    await both(page, 'send-success', vp.name);

    // A payment that fails at settlement: the page checks ₹10.00 against what is available,
    // then nearly all of it is paid from elsewhere first.
    await page.getByRole('button', { name: 'Send another payment' }).click();
    await page.getByLabel('Receiver’s email').fill(payee);
    await expect(page.getByTestId('payee')).toBeVisible();
    await page.getByLabel('Amount (₹)').fill('10');
    await page.getByRole('button', { name: 'Continue' }).click();
    const login = await request.post('/api/users/login/', { data: { email: user, password: DEMO_PASSWORD } });
    const token = ((await login.json()) as { access: string }).access;
    await payViaApi(request, token, payee, minus((await apiBalance(request, token)).available, '5.00'), 'rent');
    await page.getByRole('button', { name: 'Pay ₹10.00' }).click();
    await expect(page.getByTestId('transfer-result')).toHaveAttribute('data-status', 'FAILED');
    await both(page, 'send-failed', vp.name);

    await page.getByRole('link', { name: 'History' }).click();
    await expect(page.getByTestId('history-row').first()).toBeVisible();
    await both(page, 'history', vp.name);

    await page.getByTestId('history-row').first().click();
    await expect(page.getByTestId('transfer-detail')).toBeVisible();
    await both(page, 'transfer', vp.name);

    await page.getByRole('link', { name: 'Profile' }).click();
    await expect(page.getByTestId('aadhaar')).toHaveText(/^XXXX XXXX \d{4}$/);
    await both(page, 'profile', vp.name);
    await context.close();
  });
}
