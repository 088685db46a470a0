import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect, fillPayment, newPerson, registerViaApi, test } from './helpers';
import { login, openRoute, personWithHistory, routes } from './routes';

// axe-core on every screen, in the light and the dark theme (the system's choice, which the
// app follows): no serious or critical violation of WCAG 2.1 A and AA.
async function seriousViolations(page: Page, where: string): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${where}: ${v.id} (${v.impact}) ${v.help}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

for (const colorScheme of ['light', 'dark'] as const) {
  test(`every screen passes axe in the ${colorScheme} theme`, async ({ browser, request }) => {
    const { person, transferId } = await personWithHistory(request, `Gita ${colorScheme}`);
    const payee = newPerson('Hari Shankar');
    await registerViaApi(request, payee);
    const context = await browser.newContext({ colorScheme, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const found: string[] = [];

    for (const route of routes.filter((r) => 'anonymous' in r)) {
      await openRoute(page, route, transferId);
      await expect(page.locator('html')).toHaveAttribute('data-theme', colorScheme);
      found.push(...(await seriousViolations(page, route.path)));
    }
    await login(page, person);
    for (const route of routes.filter((r) => !('anonymous' in r))) {
      await openRoute(page, route, transferId);
      found.push(...(await seriousViolations(page, route.path)));
    }
    // The send flow's other steps: confirm, and the receipt once settled; a toast on screen.
    await fillPayment(page, payee, '12.50', 'axe');
    found.push(...(await seriousViolations(page, '/send (confirm)')));
    await page.getByRole('button', { name: 'Pay ₹12.50' }).click();
    await expect(page.getByTestId('transfer-result')).toHaveAttribute('data-status', 'SUCCESS');
    found.push(...(await seriousViolations(page, '/send (receipt)')));
    await page.setViewportSize({ width: 390, height: 844 });
    await openRoute(page, routes[2], transferId);
    found.push(...(await seriousViolations(page, '/ (phone, tab bar)')));

    expect(found).toEqual([]);
    await context.close();
  });
}
