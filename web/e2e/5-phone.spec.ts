import { apiBalance, expect, expectNoHorizontalOverflow, apiToken, payViaApi, fillPayment, newPerson, registerViaApi, test } from './helpers';
import { login, openRoute, routes } from './routes';

// Phones from 360 to 430 px wide: nothing scrolls sideways on any screen, even with a balance
// of ₹1,23,45,678.00 and the largest payment, and the tabs are at the bottom.
const widths = [360, 375, 390, 412, 430];
const staff = { email: 'staff@vaultpay.test', password: 'rupee-tiger-2026' };

test('no screen overflows sideways at phone widths, with crore-sized amounts', async ({ browser, request }) => {
  const rich = newPerson('Lakshmi Narayanan Venkataraman');
  const other = newPerson('Madhavi Krishnamurthy Subramaniam');
  await registerViaApi(request, rich);
  await registerViaApi(request, other);
  const login_ = await request.post('/api/users/login/', { data: staff });
  expect(login_.status(), 'the stack seeds a staff user (seed_demo)').toBe(200);
  const staffToken = ((await login_.json()) as { access: string }).access;
  // ₹1,000.00 welcome + ₹1,00,00,000.00 + ₹23,44,678.00 = ₹1,23,45,678.00
  for (const [i, amount] of ['10000000.00', '2344678.00'].entries()) {
    const response = await request.post('/api/wallet/deposits/', {
      headers: { Authorization: `Bearer ${staffToken}`, 'Idempotency-Key': `e2e-deposit-${rich.email}-${i}` },
      data: { email: rich.email, amount },
    });
    expect(response.status(), await response.text()).toBe(202);
  }
  const token = await apiToken(request, rich);
  await expect.poll(async () => (await apiBalance(request, token)).balance).toBe('12345678.00');
  const { id } = await payViaApi(request, token, other.email, '100000.00', 'a long note without spaces: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');

  const context = await browser.newContext({ viewport: { width: 360, height: 800 } });
  const page = await context.newPage();
  await login(page, rich);
  await expect(page.getByTestId('balance')).toHaveText('₹1,22,45,678.00');
  const tabs = page.getByRole('navigation', { name: 'Main' });
  await expect(tabs).toHaveCount(1);
  const box = await tabs.boundingBox();
  expect(box && box.y + box.height).toBe(800);

  for (const width of widths) {
    await page.setViewportSize({ width, height: 800 });
    for (const route of routes.filter((r) => !('anonymous' in r))) {
      await openRoute(page, route, id);
      await expectNoHorizontalOverflow(page, `${route.path} at ${width} px`);
    }
    await fillPayment(page, other, '100000', 'x'.repeat(140));
    await expectNoHorizontalOverflow(page, `/send (confirm) at ${width} px`);
  }
  await page.getByRole('button', { name: 'Pay ₹1,00,000.00' }).click();
  await expect(page.getByTestId('transfer-result')).toHaveAttribute('data-status', 'SUCCESS');
  for (const width of widths) {
    await page.setViewportSize({ width, height: 800 });
    await expectNoHorizontalOverflow(page, `/send (receipt) at ${width} px`);
  }
  await context.close();

  const anonymous = await browser.newContext({ viewport: { width: 360, height: 800 } });
  const anonPage = await anonymous.newPage();
  for (const width of widths) {
    await anonPage.setViewportSize({ width, height: 800 });
    for (const route of routes.filter((r) => 'anonymous' in r)) {
      await openRoute(anonPage, route, id);
      await expectNoHorizontalOverflow(anonPage, `${route.path} at ${width} px`);
    }
  }
  await anonymous.close();
});
