import { expect, loginViaUi, newPerson, registerViaApi, test } from './helpers';

// Dark mode: the system's choice by default, a toggle that is remembered, and no flash of the
// other theme while the app's script loads.
test('the theme follows the system before the app has loaded, so nothing flashes', async ({ browser }) => {
  for (const colorScheme of ['dark', 'light'] as const) {
    const context = await browser.newContext({ colorScheme });
    const page = await context.newPage();
    // Without the app's bundle at all: only index.html and the blocking theme script run.
    await page.route('**/static/assets/*.js', (route) => route.abort());
    await page.goto('/login');
    await expect(page.locator('html')).toHaveAttribute('data-theme', colorScheme);
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).toBe(colorScheme === 'dark' ? 'rgb(2, 6, 23)' : 'rgb(248, 250, 252)');
    await context.close();
  }
});

test('the toggle switches the theme, and the choice outlives a reload and the system’s preference', async ({ browser, request }) => {
  const kavya = newPerson('Kavya Reddy');
  await registerViaApi(request, kavya);
  const context = await browser.newContext({ colorScheme: 'dark' });
  const page = await context.newPage();
  await loginViaUi(page, kavya);
  const html = page.locator('html');
  await expect(html).toHaveAttribute('data-theme', 'dark');
  await page.getByRole('button', { name: 'Use light theme' }).click();
  await expect(html).toHaveAttribute('data-theme', 'light');
  expect(await page.evaluate(() => localStorage.getItem('vaultpay.theme'))).toBe('light');

  await page.reload();
  await expect(html).toHaveAttribute('data-theme', 'light');
  await page.emulateMedia({ colorScheme: 'light' });
  await page.emulateMedia({ colorScheme: 'dark' });
  await expect(html).toHaveAttribute('data-theme', 'light');
  await page.getByRole('button', { name: 'Use dark theme' }).click();
  await expect(html).toHaveAttribute('data-theme', 'dark');
  await context.close();
});

test('without a saved choice a change of the system’s scheme applies at once', async ({ page }) => {
  await page.emulateMedia({ colorScheme: 'light' });
  await page.goto('/login');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  await page.emulateMedia({ colorScheme: 'dark' });
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
});
