import { expect, newPerson, registerViaApi, tabTo, test } from './helpers';

// The whole send flow with the keyboard alone: log in, go to Send, pick the payee, pay.
test('a payment can be made with the keyboard only', async ({ page, request }) => {
  const ira = newPerson('Ira Kapoor');
  const jay = newPerson('Jay Pillai');
  await registerViaApi(request, ira);
  await registerViaApi(request, jay);

  await page.goto('/login');
  await tabTo(page, page.getByLabel('Email'));
  await page.keyboard.type(ira.email);
  await page.keyboard.press('Tab');
  await expect(page.getByLabel('Password')).toBeFocused();
  await page.keyboard.type(ira.password);
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'Home', level: 1 })).toBeFocused();

  await tabTo(page, page.getByRole('link', { name: 'Send', exact: true }));
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'Send money', level: 1 })).toBeFocused();
  await tabTo(page, page.getByLabel('Receiver’s email'));
  await page.keyboard.type(jay.email);
  await expect(page.getByTestId('payee')).toContainText('Jay Pillai');
  await page.keyboard.press('Tab');
  await expect(page.getByLabel('Amount (₹)')).toBeFocused();
  await page.keyboard.type('42.50');
  await page.keyboard.press('Tab');
  await page.keyboard.type('by keyboard');
  await page.keyboard.press('Enter');

  await expect(page.getByRole('heading', { name: 'Confirm payment' })).toBeFocused();
  await tabTo(page, page.getByRole('button', { name: 'Pay ₹42.50' }));
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'Receipt' })).toBeFocused();
  await expect(page.getByTestId('transfer-result')).toHaveAttribute('data-status', 'SUCCESS');
  await expect(page.getByTestId('transfer-result')).toContainText('Jay Pillai has the money.');
  await expect(page.getByTestId('balance')).toHaveText('₹957.50');
});
