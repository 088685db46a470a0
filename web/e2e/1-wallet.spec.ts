import type { Browser, BrowserContext, Page } from '@playwright/test';
import {
  apiToken,
  expect,
  grouped,
  loginViaUi,
  newPerson,
  recordAttribute,
  recorded,
  registerViaApi,
  test,
  waitLive,
  withSettlementPaused,
  type Person,
} from './helpers';

// One story, in order, on the real stack: two people in two browser contexts.
test.describe.configure({ mode: 'serial' });

const alice = newPerson('Alice Iyer');
const bob = newPerson('Bob Menon');
let contextA: BrowserContext;
let contextB: BrowserContext;
let pageA: Page;
let pageB: Page;

async function openAs(browser: Browser, person: Person): Promise<[BrowserContext, Page]> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await loginViaUi(page, person);
  return [context, page];
}

async function send(page: Page, to: Person, amount: string, note: string): Promise<void> {
  await page.getByRole('link', { name: 'Send', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Send money', level: 1 })).toBeVisible();
  const another = page.getByRole('button', { name: 'Send another payment' });
  if (await another.isVisible()) await another.click();
  await page.getByLabel('Receiver’s email').fill(to.email);
  await page.getByLabel('Amount (₹)').fill(amount);
  await page.getByLabel('Note (optional)').fill(note);
}

test.beforeAll(async ({ request }) => {
  await registerViaApi(request, alice);
  await registerViaApi(request, bob);
});

test.afterAll(async () => {
  await contextA?.close();
  await contextB?.close();
});

test('a new user registers and lands on a dashboard with the welcome credit', async ({ page }) => {
  const carol = newPerson('Carol Das');
  await page.goto('/register');
  await page.getByLabel('Full name').fill(carol.full_name);
  await page.getByLabel('Email').fill(carol.email);
  await page.getByLabel('Password').fill(carol.password);
  const aadhaarInput = page.getByLabel('Aadhaar number');
  // A wrong check digit is caught before anything is sent.
  const wrong = carol.aadhaar.slice(0, 11) + String((Number(carol.aadhaar[11]) + 1) % 10);
  await aadhaarInput.pressSequentially(wrong);
  await expect(aadhaarInput).toHaveValue(grouped(wrong));
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByText('This is not a valid Aadhaar number: check the digits.')).toBeVisible();
  await aadhaarInput.fill('');
  await aadhaarInput.pressSequentially(carol.aadhaar);
  await expect(aadhaarInput).toHaveValue(grouped(carol.aadhaar));
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('heading', { name: 'Home', level: 1 })).toBeVisible();
  await expect(page.getByTestId('balance')).toHaveText('₹1,000.00');
  await expect(page.getByRole('list', { name: 'Recent transactions' })).toContainText('From VaultPay');
});

test('A sends to B: A sees PENDING then SUCCESS, B’s balance changes and flashes without a reload', async ({ browser }) => {
  [contextA, pageA] = await openAs(browser, alice);
  [contextB, pageB] = await openAs(browser, bob);
  await waitLive(pageA);
  await waitLive(pageB);
  await expect(pageB.getByTestId('balance')).toHaveText('₹1,000.00');
  await pageB.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
  await recordAttribute(pageB, 'flashes', '[data-testid=balance]', 'data-flash');

  await send(pageA, bob, '150.00', 'chai and samosa');
  await recordAttribute(pageA, 'statuses', '[data-testid=transfer-result]', 'data-status');
  // Settlement is paused until A has seen PENDING: a fast worker may otherwise settle it before
  // the 202 is on screen (the app then shows SUCCESS at once, which is right but not this test).
  await withSettlementPaused(async () => {
    await pageA.getByRole('button', { name: 'Send money' }).click();
    await expect(pageA.getByTestId('transfer-result')).toHaveAttribute('data-status', 'PENDING');
    await expect(pageA.getByTestId('transfer-result')).toContainText('Processing your payment');
    await expect(pageA.getByTestId('pending-out')).toHaveText('₹150.00');
  });
  await expect(pageA.getByTestId('transfer-result')).toHaveAttribute('data-status', 'SUCCESS');
  expect(await recorded(pageA, 'statuses')).toEqual(['PENDING', 'SUCCESS']);
  await expect(pageA.getByTestId('transfer-result')).toContainText('Paid.');
  await expect(pageA.getByTestId('balance')).toHaveText('₹850.00');

  await expect(pageB.getByTestId('balance')).toHaveText('₹1,150.00');
  await expect.poll(() => recorded(pageB, 'flashes')).toContain('up');
  expect(await pageB.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
  await expect(pageB.getByRole('list', { name: 'Recent transactions' })).toContainText('From Alice Iyer');
});

test('history and the cash-flow chart show the transfer', async () => {
  await pageA.getByRole('link', { name: 'History' }).click();
  const row = pageA.getByTestId('history-row').filter({ hasText: 'To Bob Menon' });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('−₹150.00');
  await expect(row).toContainText('chai and samosa');
  await pageA.getByLabel('Direction').selectOption('in');
  await expect(pageA.getByTestId('history-row')).toHaveCount(1);
  await expect(pageA.getByTestId('history-row')).toContainText('From VaultPay');
  await expect(pageA.getByTestId('history-row')).toContainText('+₹1,000.00');
  await pageA.getByLabel('Direction').selectOption('');

  await pageA.getByRole('link', { name: 'Home' }).click();
  await expect(pageA.getByTestId('cashflow-chart').locator('.recharts-bar-rectangle').first()).toBeAttached();
  const table = pageA.getByTestId('cashflow-table');
  await expect(table.locator('tbody tr')).toHaveCount(1);
  await expect(table.locator('tbody tr td')).toHaveText(['₹1,000.00', '₹150.00', '₹850.00']);

  await pageA.getByTestId('history-row').filter({ hasText: 'To Bob Menon' }).click();
  await expect(pageA.getByTestId('transfer-detail')).toHaveAttribute('data-status', 'SUCCESS');
  await expect(pageA.getByTestId('transfer-detail')).toContainText(bob.email);
});

test('a send that fails for insufficient funds shows the reason in words', async () => {
  await send(pageA, bob, '5000', 'too much');
  await pageA.getByRole('button', { name: 'Send money' }).click();
  await expect(pageA.getByTestId('transfer-result')).toHaveAttribute('data-status', 'FAILED');
  await expect(pageA.getByTestId('failure-reason')).toHaveText(
    'Not enough money in the wallet when the payment was processed. No money left your wallet.',
  );
  await expect(pageA.getByTestId('balance')).toHaveText('₹850.00');
});

test('a double-clicked send creates exactly one transfer', async ({ request }) => {
  const keys: string[] = [];
  pageA.on('request', (r) => {
    if (r.method() === 'POST' && r.url().endsWith('/api/wallet/transfer/')) keys.push(r.headers()['idempotency-key'] ?? '');
  });
  await send(pageA, bob, '10.00', 'double click');
  await pageA.getByRole('button', { name: 'Send money' }).dblclick();
  await expect(pageA.getByTestId('transfer-result')).toHaveAttribute('data-status', 'SUCCESS');
  expect(new Set(keys).size).toBe(1);

  const token = await apiToken(request, alice);
  const response = await request.get('/api/wallet/history/?direction=out&page_size=100', {
    headers: { Authorization: `Bearer ${token}` },
  });
  const rows = ((await response.json()) as { results: Array<{ note: string; amount: string }> }).results;
  expect(rows.filter((r) => r.note === 'double click')).toHaveLength(1);
  await expect(pageB.getByTestId('balance')).toHaveText('₹1,160.00');
});

test('history loads the next page as it scrolls (infinite scroll over the cursor API)', async ({ request }) => {
  const token = await apiToken(request, alice);
  for (let i = 1; i <= 22; i += 1) {
    const response = await request.post('/api/wallet/transfer/', {
      headers: { Authorization: `Bearer ${token}`, 'Idempotency-Key': `e2e-scroll-${alice.email}-${i}` },
      data: { receiver_email: bob.email, amount: '1.00', note: `scroll ${i}` },
    });
    expect(response.status()).toBe(202);
  }
  await expect(pageB.getByTestId('balance')).toHaveText('₹1,182.00');
  await pageB.getByRole('link', { name: 'History' }).click();
  const rows = pageB.getByTestId('history-row');
  await expect(rows).toHaveCount(20);
  await rows.last().scrollIntoViewIfNeeded();
  await pageB.mouse.wheel(0, 4000);
  await expect(rows).toHaveCount(25); // 22 + 150.00 + 10.00 + the welcome credit
  await expect(pageB.getByText('That is everything.')).toBeVisible();
  await expect(rows.last()).toContainText('From VaultPay');
});

test('the profile shows only the masked Aadhaar until it is revealed with the right password', async () => {
  await pageA.getByRole('link', { name: 'Profile' }).click();
  const aadhaar = pageA.getByTestId('aadhaar');
  await expect(aadhaar).toHaveText(`XXXX XXXX ${alice.aadhaar.slice(8)}`);
  const full = grouped(alice.aadhaar);
  expect(await pageA.content()).not.toContain(full);
  expect(await pageA.content()).not.toContain(alice.aadhaar);

  await pageA.getByRole('button', { name: 'Reveal' }).click();
  await pageA.getByLabel('Enter your password to see the full number').fill('not-my-password');
  await pageA.getByRole('button', { name: 'Show number' }).click();
  await expect(pageA.getByText('That password is not right.')).toBeVisible();
  await expect(aadhaar).toHaveText(`XXXX XXXX ${alice.aadhaar.slice(8)}`);

  await pageA.getByLabel('Enter your password to see the full number').fill(alice.password);
  await pageA.getByRole('button', { name: 'Show number' }).click();
  await expect(aadhaar).toHaveText(full);
  await expect(pageA.getByText(/Hidden again in \d+ s/)).toBeVisible();
  await pageA.getByRole('button', { name: 'Hide' }).click();
  await expect(aadhaar).toHaveText(`XXXX XXXX ${alice.aadhaar.slice(8)}`);
});

test('logging out ends the session', async () => {
  await pageA.getByRole('button', { name: 'Log out' }).click();
  await expect(pageA.getByRole('heading', { name: 'Log in', level: 1 })).toBeVisible();
  await pageA.goto('/history');
  await expect(pageA.getByRole('heading', { name: 'Log in', level: 1 })).toBeVisible();
});
