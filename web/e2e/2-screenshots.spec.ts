import { fileURLToPath } from 'node:url';
import type { Page } from '@playwright/test';
import { expect, test, waitLive } from './helpers';

// Every screen at desktop and phone width, logged in as a demo user (demo mode is on in the
// stack), saved under docs/screenshots/ for the README.
const OUT = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const viewports = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
] as const;

async function shot(page: Page, screen: string, viewport: string): Promise<void> {
  await page.evaluate(() => document.fonts.ready);
  await page.screenshot({ path: `${OUT}${screen}-${viewport}.png`, fullPage: true, animations: 'disabled' });
}

for (const vp of viewports) {
  test(`screenshots at ${vp.name} width`, async ({ browser }) => {
    const context = await browser.newContext({ viewport: { width: vp.width, height: vp.height }, deviceScaleFactor: 1 });
    const page = await context.newPage();

    await page.goto('/register');
    await expect(page.getByRole('heading', { name: 'Create an account' })).toBeVisible();
    await page.getByLabel('Aadhaar number').pressSequentially('23456789');
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect(page.getByText('An Aadhaar number has 12 digits.')).toBeVisible();
    await shot(page, 'register', vp.name);

    await page.goto('/login');
    const demo = page.getByRole('region', { name: 'Demo mode' });
    await expect(demo.getByRole('button').first()).toBeVisible();
    await shot(page, 'login', vp.name);
    await demo.getByRole('button').first().click();
    await page.getByRole('button', { name: 'Log in' }).click();

    await expect(page.getByRole('heading', { name: 'Home', level: 1 })).toBeVisible();
    await waitLive(page);
    await expect(page.getByTestId('balance')).toBeVisible();
    await expect(page.getByTestId('cashflow-chart').locator('.recharts-bar-rectangle').first()).toBeAttached();
    await expect(page.getByRole('list', { name: 'Recent transactions' })).toBeVisible();
    await shot(page, 'dashboard', vp.name);

    await page.getByRole('link', { name: 'Send', exact: true }).click();
    await page.getByLabel('Receiver’s email').fill('demo02@vaultpay.test');
    await page.getByLabel('Amount (₹)').fill('12.5');
    await page.getByLabel('Note (optional)').fill('chai');
    await shot(page, 'send', vp.name);
    await page.getByRole('button', { name: 'Send money' }).click();
    await expect(page.getByTestId('transfer-result')).toHaveAttribute('data-status', 'SUCCESS');
    await shot(page, 'send-success', vp.name);
    await page.getByRole('button', { name: 'Send another payment' }).click();
    await page.getByLabel('Receiver’s email').fill('demo03@vaultpay.test');
    await page.getByLabel('Amount (₹)').fill('99999');
    await page.getByRole('button', { name: 'Send money' }).click();
    await expect(page.getByTestId('transfer-result')).toHaveAttribute('data-status', 'FAILED');
    await shot(page, 'send-failed', vp.name);

    await page.getByRole('link', { name: 'History' }).click();
    await expect(page.getByTestId('history-row').first()).toBeVisible();
    await shot(page, 'history', vp.name);

    await page.getByTestId('history-row').first().click();
    await expect(page.getByTestId('transfer-detail')).toBeVisible();
    await shot(page, 'transfer', vp.name);

    await page.getByRole('link', { name: 'Profile' }).click();
    await expect(page.getByTestId('aadhaar')).toHaveText(/^XXXX XXXX \d{4}$/);
    await shot(page, 'profile', vp.name);
    await context.close();
  });
}
