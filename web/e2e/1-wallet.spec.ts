import type { Browser, BrowserContext, Page } from '@playwright/test';
import {
  apiBalance,
  apiToken,
  expect,
  fillPayment,
  grouped,
  loginViaUi,
  newPerson,
  payViaApi,
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

/** Idempotency-Key of every payment the page posts. */
function recordKeys(page: Page): string[] {
  const keys: string[] = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && r.url().endsWith('/api/wallet/transfer/')) keys.push(r.headers()['idempotency-key'] ?? '');
  });
  return keys;
}

test.beforeAll(async ({ request }) => {
  await registerViaApi(request, alice);
  await registerViaApi(request, bob);
});

test.afterAll(async () => {
  await contextA?.close();
  await contextB?.close();
});

test('a new user registers, lands on a dashboard with the welcome credit, and sees the mobile number grouped', async ({ page }) => {
  const carol = newPerson('Carol Das');
  await page.goto('/register');
  await page.getByLabel('Full name').fill(carol.full_name);
  await page.getByLabel('Email').fill(carol.email);
  await page.getByLabel('Mobile number (optional)').fill('6343043868');
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
  await expect(page.getByTestId('available')).toHaveText('₹1,000.00');
  await expect(page.getByRole('list', { name: 'Recent transactions' })).toContainText('From VaultPay');
  await page.getByRole('link', { name: 'Profile' }).click();
  await expect(page.getByTestId('phone')).toHaveText('+91 63430 43868');
});

test('the payee is confirmed by name before paying; unknown and own emails are said in words', async ({ browser }) => {
  [contextA, pageA] = await openAs(browser, alice);
  await pageA.getByRole('link', { name: 'Send', exact: true }).click();
  const email = pageA.getByLabel('Receiver’s email');
  await email.fill(`nobody.${Date.now()}@e2e.test`);
  await expect(pageA.getByTestId('payee-problem')).toHaveText('No active VaultPay account has this email. Check it for typos.');
  await email.fill(alice.email);
  await expect(pageA.getByTestId('payee-problem')).toHaveText('This is your own email. You cannot pay yourself.');
  await email.fill(bob.email.toUpperCase());
  await expect(pageA.getByTestId('payee')).toContainText('Bob Menon');
  await expect(email).toHaveAccessibleDescription(/Bob Menon/);
});

test('A pays B: the receipt goes PENDING -> SUCCESS live with a timeline; B gets a toast and a new balance without a reload', async ({
  browser,
}) => {
  [contextB, pageB] = await openAs(browser, bob);
  await waitLive(pageA);
  await waitLive(pageB);
  await expect(pageB.getByTestId('balance')).toHaveText('₹1,000.00');
  await pageB.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
  await recordAttribute(pageB, 'flashes', '[data-testid=balance]', 'data-flash');

  await fillPayment(pageA, bob, '150', 'chai and samosa');
  await expect(pageA.getByTestId('confirm-amount')).toHaveText('₹150.00');
  await expect(pageA.getByTestId('confirm-payment')).toContainText('chai and samosa');
  await recordAttribute(pageA, 'statuses', '[data-testid=transfer-result]', 'data-status');
  // Settlement is paused until A has seen PENDING: a fast worker may otherwise settle it before
  // the 202 is on screen (the app then shows SUCCESS at once, which is right but not this test).
  await withSettlementPaused(async () => {
    await pageA.getByRole('button', { name: 'Pay ₹150.00' }).click();
    await expect(pageA.getByTestId('transfer-result')).toHaveAttribute('data-status', 'PENDING');
    await expect(pageA.getByTestId('transfer-result')).toContainText('Processing your payment');
    await expect(pageA.getByTestId('timeline')).toContainText('Waiting to be settled');
    await expect(pageA.getByTestId('pending-out')).toHaveText('₹150.00');
  });
  await expect(pageA.getByTestId('transfer-result')).toHaveAttribute('data-status', 'SUCCESS');
  expect(await recorded(pageA, 'statuses')).toEqual(['PENDING', 'SUCCESS']);
  await expect(pageA.getByTestId('transfer-result')).toContainText('Bob Menon has the money.');
  await expect(pageA.getByTestId('timeline')).toContainText(/Accepted at .*Settled at .*Took (under )?\d/);
  await expect(pageA.getByTestId('balance')).toHaveText('₹850.00');

  // The reference copies to the clipboard.
  await contextA.grantPermissions(['clipboard-read', 'clipboard-write']);
  const reference = (await pageA.getByTestId('reference').textContent()) ?? '';
  await pageA.getByRole('button', { name: 'Copy' }).click();
  await expect(pageA.getByText('Reference copied.')).toBeVisible();
  expect(await pageA.evaluate(() => navigator.clipboard.readText())).toBe(reference);

  const toast = pageB.getByRole('status', { name: 'Notifications' }).getByTestId('toast');
  await expect(toast).toContainText('₹150.00 from Alice Iyer');
  await expect(pageB.getByTestId('balance')).toHaveText('₹1,150.00');
  await expect.poll(() => recorded(pageB, 'flashes')).toContain('up');
  expect(await pageB.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
  await expect(pageB.getByRole('list', { name: 'Recent transactions' })).toContainText('From Alice Iyer');
});

test('a recent contact is one tap away, and a double-clicked payment is made once', async ({ request }) => {
  const keys = recordKeys(pageA);
  await pageA.getByRole('button', { name: 'Pay again' }).click();
  await expect(pageA.getByLabel('Receiver’s email')).toHaveValue(bob.email);
  await pageA.reload();
  const contacts = pageA.getByRole('list', { name: 'Pay someone you paid before' });
  await contacts.getByRole('button', { name: `Bob Menon, ${bob.email}` }).click();
  await expect(pageA.getByTestId('payee')).toContainText('Bob Menon');
  await expect(pageA.getByLabel('Amount (₹)')).toBeFocused();
  await pageA.keyboard.type('10');
  await pageA.getByLabel('Note (optional)').fill('double click');
  await pageA.getByRole('button', { name: 'Continue' }).click();
  await pageA.getByRole('button', { name: 'Pay ₹10.00' }).dblclick();
  await expect(pageA.getByTestId('transfer-result')).toHaveAttribute('data-status', 'SUCCESS');
  expect(keys.length).toBeGreaterThanOrEqual(1);
  expect(new Set(keys).size).toBe(1);

  const token = await apiToken(request, alice);
  const response = await request.get('/api/wallet/history/?direction=out&page_size=100', {
    headers: { Authorization: `Bearer ${token}` },
  });
  const rows = ((await response.json()) as { results: Array<{ note: string }> }).results;
  expect(rows.filter((r) => r.note === 'double click')).toHaveLength(1);
  await expect(pageB.getByTestId('balance')).toHaveText('₹1,160.00');
});

test('a payment the server refuses at settlement fails visibly; “Try again” uses a new key; B is told nothing', async ({ request }) => {
  const keys = recordKeys(pageA);
  // The page checked 100 against ₹840.00 available; then 800 is paid from elsewhere, so when
  // the page's payment settles (after it, in order) the money is not there: the server judges.
  await fillPayment(pageA, bob, '100', 'too late');
  const token = await apiToken(request, alice);
  expect((await apiBalance(request, token)).available).toBe('840.00');
  await payViaApi(request, token, bob.email, '800.00', 'rent');
  await pageA.getByRole('button', { name: 'Pay ₹100.00' }).click();
  await expect(pageA.getByTestId('transfer-result')).toHaveAttribute('data-status', 'FAILED');
  await expect(pageA.getByTestId('failure-reason')).toHaveText(
    'Not enough money in the wallet when the payment was processed. No money left your wallet.',
  );
  await expect(pageA.getByRole('status', { name: 'Notifications' })).toContainText('Payment of ₹100.00 to Bob Menon failed');
  await expect(pageA.getByTestId('balance')).toHaveText('₹40.00');

  await pageA.getByRole('button', { name: 'Try again' }).click();
  await expect(pageA.getByTestId('confirm-amount')).toHaveText('₹100.00');
  await pageA.getByRole('button', { name: 'Pay ₹100.00' }).click();
  await expect(pageA.getByTestId('transfer-result')).toHaveAttribute('data-status', 'FAILED');
  expect(keys).toHaveLength(2);
  expect(keys[1]).not.toBe(keys[0]);

  await expect(pageB.getByTestId('balance')).toHaveText('₹1,960.00');
  await expect(pageB.getByTestId('toast').filter({ hasText: '₹100.00' })).toHaveCount(0);
});

test('history is honest about failures, grouped by day, and its search lives in the URL', async () => {
  await pageA.getByRole('link', { name: 'History' }).click();
  await expect(pageA.getByTestId('history-day').first().getByRole('heading')).toHaveText('Today');
  const failed = pageA.getByTestId('history-row').filter({ hasText: 'too late' });
  await expect(failed).toHaveCount(2);
  await expect(failed.first()).toContainText('Not sent: Not enough money in the wallet');
  await expect(failed.first()).not.toContainText('−');
  await expect(failed.first().locator('s')).toHaveText('₹100.00');
  const paid = pageA.getByTestId('history-row').filter({ hasText: 'chai and samosa' });
  await expect(paid).toContainText('−₹150.00');

  await pageA.getByLabel('Search').fill('samosa');
  await expect(pageA.getByTestId('history-row')).toHaveCount(1);
  await expect(pageA).toHaveURL(/[?&]q=samosa/);
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Kolkata' }).format(new Date());
  await pageA.getByLabel('From', { exact: true }).fill(today);
  await pageA.getByLabel('To', { exact: true }).fill(today);
  await expect(pageA).toHaveURL(new RegExp(`from=${today}.*to=${today}`));
  await expect(pageA.getByTestId('history-row')).toHaveCount(1);
  await pageA.reload();
  await expect(pageA.getByLabel('Search')).toHaveValue('samosa');
  await expect(pageA.getByTestId('history-row')).toHaveCount(1);
  await expect(pageA.getByTestId('history-row')).toContainText('To Bob Menon');

  await pageA.getByLabel('From', { exact: true }).fill('2020-01-01');
  await pageA.getByLabel('To', { exact: true }).fill('2020-01-31');
  await expect(pageA.getByText('No transactions match these filters.')).toBeVisible();
  await pageA.getByRole('button', { name: 'Clear filters' }).click();
  await expect(pageA).not.toHaveURL(/\?/);
  await pageA.getByLabel('Direction').selectOption('in');
  await expect(pageA.getByTestId('history-row')).toHaveCount(1);
  await expect(pageA.getByTestId('history-row')).toContainText('From VaultPay');
  await expect(pageA.getByTestId('history-row')).toContainText('+₹1,000.00');
  await pageA.getByLabel('Direction').selectOption('');

  await pageA.getByRole('link', { name: 'Home' }).click();
  await expect(pageA.getByTestId('cashflow-chart').locator('.recharts-bar-rectangle').first()).toBeAttached();
  const table = pageA.getByTestId('cashflow-table');
  await expect(table.locator('tbody tr')).toHaveCount(1);
  await expect(table.locator('tbody tr td')).toHaveText(['₹1,000.00', '₹960.00', '₹40.00']);

  await pageA.getByRole('link', { name: 'History' }).click();
  await pageA.getByTestId('history-row').filter({ hasText: 'chai and samosa' }).click();
  await expect(pageA.getByTestId('transfer-detail')).toHaveAttribute('data-status', 'SUCCESS');
  await expect(pageA.getByTestId('transfer-detail')).toContainText(bob.email);
});

test('history loads the next page as it scrolls (infinite scroll over the cursor API)', async ({ request }) => {
  const token = await apiToken(request, alice);
  for (let i = 1; i <= 22; i += 1) await payViaApi(request, token, bob.email, '1.00', `scroll ${i}`);
  await expect(pageB.getByTestId('balance')).toHaveText('₹1,982.00');
  await pageB.getByRole('link', { name: 'History' }).click();
  const rows = pageB.getByTestId('history-row');
  await expect(rows).toHaveCount(20);
  await rows.last().scrollIntoViewIfNeeded();
  await pageB.mouse.wheel(0, 4000);
  await expect(rows).toHaveCount(26); // 22 + 150.00 + 10.00 + 800.00 + the welcome credit
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
