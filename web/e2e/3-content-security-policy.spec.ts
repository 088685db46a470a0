import { expect, test } from './helpers';

// The policy the real stack serves, and the guard every test runs under (helpers.ts `test`).
test('pages are served under a strict policy naming the socket, and a refused inline script is reported', async ({
  page,
  browser,
  cspWatch,
}) => {
  const response = await page.goto('/login');
  const policy = response?.headers()['content-security-policy'] ?? '';
  expect(policy).toContain("script-src 'self';");
  expect(policy).toMatch(/(^|; )connect-src 'self' wss?:\/\/[^\s;]+\/ws\/notifications\/(;|$)/);
  expect(policy).not.toContain('unsafe-');
  await expect(page.getByRole('heading', { name: 'Log in' })).toBeVisible();
  expect(await cspWatch.take(browser)).toEqual([]);

  await page.evaluate(() => {
    const script = document.createElement('script');
    script.textContent = 'window.injected = true';
    document.head.append(script);
  });

  expect(await page.evaluate(() => 'injected' in window)).toBe(false);
  const reports = (await cspWatch.take(browser)).map((r) => r.text);
  expect(reports).toContainEqual(expect.stringMatching(/^securitypolicyviolation: .*"effectiveDirective":"script-src-elem"/));
  expect(reports).toContainEqual(expect.stringMatching(/inline script violates the following Content Security Policy directive 'script-src 'self''/));
});
