import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test as base, expect, type APIRequestContext, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { verhoeffCheckDigit } from '../src/lib/aadhaar';

export { expect };

/** What the browser said about a Content-Security-Policy violation, and on which page. */
export type CspReport = { page: string; text: string };

const VIOLATION_PREFIX = 'securitypolicyviolation: ';

/**
 * Every Content-Security-Policy message of every page in every context of the browser: the
 * console lines Chromium writes for a refused load, eval, inline script or style or for a
 * malformed policy, and the page's own `securitypolicyviolation` events (written to the console
 * by an init script, so they arrive the same way).
 */
export class CspWatch {
  private reports: CspReport[] = [];
  private readonly watched = new WeakSet<BrowserContext>();

  async watch(context: BrowserContext): Promise<void> {
    if (this.watched.has(context)) return;
    this.watched.add(context);
    context.on('console', (message) => {
      const text = message.text();
      if (text.startsWith(VIOLATION_PREFIX) || text.includes('Content Security Policy')) {
        this.reports.push({ page: message.page()?.url() ?? '(no page)', text });
      }
    });
    await context.addInitScript((prefix: string) => {
      document.addEventListener('securitypolicyviolation', (e) => {
        const { effectiveDirective, blockedURI, sourceFile, lineNumber, sample } = e;
        console.error(prefix + JSON.stringify({ effectiveDirective, blockedURI, sourceFile, lineNumber, sample }));
      });
    }, VIOLATION_PREFIX);
  }

  /** The reports so far, forgetting them. Console events still in flight are waited for. */
  async take(browser: Browser): Promise<CspReport[]> {
    // A round trip to each open page delivers the console events it sent before.
    const pages = browser.contexts().flatMap((c) => c.pages());
    await Promise.all(pages.map((p) => p.evaluate(() => undefined).catch(() => undefined)));
    const taken = this.reports;
    this.reports = [];
    return taken;
  }
}

/**
 * `test` for every spec: each context the browser opens (the `page` fixture's, and those a
 * test opens with browser.newContext or browser.newPage) is watched from before its first
 * page, and a test fails at its end when any page reported a CSP violation.
 */
export const test = base.extend<{ failOnCspViolation: void }, { cspWatch: CspWatch }>({
  cspWatch: [
    async ({ browser }, use) => {
      const watch = new CspWatch();
      // Wrapped rather than listened to (browser.on('context')), so that the init script and
      // the console subscription are in place before the caller can open a page.
      const newContext = browser.newContext.bind(browser);
      browser.newContext = async (options) => {
        const context = await newContext(options);
        await watch.watch(context);
        return context;
      };
      await use(watch);
      browser.newContext = newContext;
    },
    { scope: 'worker', auto: true },
  ],
  failOnCspViolation: [
    async ({ browser, cspWatch }, use) => {
      // Nothing is dropped at the start: a report from a hook counts against the next test.
      await use();
      expect(await cspWatch.take(browser), 'Content-Security-Policy violations in the browser').toEqual([]);
    },
    { auto: true },
  ],
});

export type Person = { email: string; password: string; full_name: string; aadhaar: string };

let serial = 0;

/** A fresh person with a valid, random Aadhaar number. */
export function newPerson(name: string): Person {
  serial += 1;
  const stamp = `${Date.now().toString(36)}${serial}`;
  const body = `${2 + Math.floor(Math.random() * 8)}${String(Math.floor(Math.random() * 1e10)).padStart(10, '0')}`;
  return {
    email: `${name.toLowerCase().replace(/\W+/g, '.')}.${stamp}@e2e.test`,
    password: 'walnut-harbour-1729',
    full_name: name,
    aadhaar: body + verhoeffCheckDigit(body),
  };
}

export function grouped(aadhaar: string): string {
  return aadhaar.replace(/(\d{4})(?=\d)/g, '$1 ');
}

export async function registerViaApi(request: APIRequestContext, person: Person): Promise<void> {
  const response = await request.post('/api/users/register/', {
    data: { email: person.email, password: person.password, full_name: person.full_name, aadhaar: person.aadhaar },
  });
  expect(response.status(), await response.text()).toBe(201);
}

export async function apiToken(request: APIRequestContext, person: Person): Promise<string> {
  const response = await request.post('/api/users/login/', { data: { email: person.email, password: person.password } });
  expect(response.status()).toBe(200);
  return ((await response.json()) as { access: string }).access;
}

export async function loginViaUi(page: Page, person: Person): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('Email').fill(person.email);
  await page.getByLabel('Password').fill(person.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('heading', { name: 'Home', level: 1 })).toBeVisible();
}

export async function waitLive(page: Page): Promise<void> {
  await expect(page.locator('[data-live]')).toHaveAttribute('data-live', 'live');
}

/**
 * Records, in the page, every value an attribute takes on elements matching `selector`
 * (however briefly), so a test can assert a sequence like PENDING -> SUCCESS without racing it.
 */
export async function recordAttribute(page: Page, name: string, selector: string, attribute: string): Promise<void> {
  await page.evaluate(
    ({ name, selector, attribute }) => {
      const w = window as unknown as Record<string, string[]>;
      const seen: string[] = (w[name] = []);
      const note = () => {
        document.querySelectorAll(selector).forEach((el) => {
          const v = el.getAttribute(attribute);
          if (v !== null && seen[seen.length - 1] !== v) seen.push(v);
        });
      };
      new MutationObserver(note).observe(document.body, {
        subtree: true,
        childList: true,
        attributes: true,
        attributeFilter: [attribute],
      });
      note();
    },
    { name, selector, attribute },
  );
}

export async function recorded(page: Page, name: string): Promise<string[]> {
  return page.evaluate((name) => (window as unknown as Record<string, string[]>)[name] ?? [], name);
}

/**
 * Runs `body` with the stack's Celery worker paused (SIGSTOP), so transfers stay PENDING until
 * it resumes. Only for the stack that e2e/stack.sh started.
 */
export async function withSettlementPaused(body: () => Promise<void>): Promise<void> {
  if (process.env.E2E_BASE_URL) {
    // A stack this run did not start: its worker cannot be paused.
    await body();
    return;
  }
  const pidFile = fileURLToPath(new URL('../.e2e/worker.pid', import.meta.url));
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('celery')) {
    throw new Error(`process ${pid} is not the stack's Celery worker`);
  }
  process.kill(pid, 'SIGSTOP');
  try {
    await body();
  } finally {
    process.kill(pid, 'SIGCONT');
  }
}

/** The wallet's balance as the API says it: {balance, pending_out, available}. */
export async function apiBalance(request: APIRequestContext, token: string): Promise<{ balance: string; available: string }> {
  const response = await request.get('/api/wallet/balance/', { headers: { Authorization: `Bearer ${token}` } });
  expect(response.status()).toBe(200);
  return (await response.json()) as { balance: string; available: string };
}

/** A payment made over the API (not the page), accepted with 202. */
export async function payViaApi(
  request: APIRequestContext,
  token: string,
  to: string,
  amount: string,
  note = '',
): Promise<{ id: string }> {
  const response = await request.post('/api/wallet/transfer/', {
    headers: { Authorization: `Bearer ${token}`, 'Idempotency-Key': `e2e-${Date.now()}-${Math.random().toString(36).slice(2)}` },
    data: note ? { receiver_email: to, amount, note } : { receiver_email: to, amount },
  });
  expect(response.status(), await response.text()).toBe(202);
  return (await response.json()) as { id: string };
}

/** "123.45" minus "5.00", in paise, back to a money string (no floats). */
export function minus(a: string, b: string): string {
  const paise = (s: string) => BigInt(s.replace('.', ''));
  const p = paise(a) - paise(b);
  return `${p / 100n}.${String(p % 100n).padStart(2, '0')}`;
}

/**
 * On the Send page: picks the payee by typing the email, waits for the registered name,
 * enters amount and note, and goes on to the confirm step.
 */
export async function fillPayment(page: Page, to: Person | { email: string; full_name: string }, amount: string, note = ''): Promise<void> {
  await page.getByRole('link', { name: 'Send', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Send money', level: 1 })).toBeVisible();
  const another = page.getByRole('button', { name: 'Send another payment' });
  if (await another.isVisible()) await another.click();
  await page.getByLabel('Receiver’s email').fill(to.email);
  await expect(page.getByTestId('payee')).toContainText(to.full_name);
  await page.getByLabel('Amount (₹)').fill(amount);
  if (note) await page.getByLabel('Note (optional)').fill(note);
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page.getByTestId('confirm-payee')).toHaveText(to.full_name);
}

/** Fails unless the page is no wider than the window (nothing scrolls sideways); the message
 * names the innermost elements that stick out. */
export async function expectNoHorizontalOverflow(page: Page, where: string): Promise<void> {
  const { scrollWidth, innerWidth, culprits } = await page.evaluate(() => {
    const width = window.innerWidth;
    const out = [...document.querySelectorAll('body *')].filter((el) => {
      const box = el.getBoundingClientRect();
      return box.width > 0 && box.right > width + 0.5 && ![...el.children].some((c) => c.getBoundingClientRect().right > width + 0.5);
    });
    const describe = (el: Element) =>
      `<${el.tagName.toLowerCase()} class="${el.getAttribute('class') ?? ''}"> right=${Math.round(el.getBoundingClientRect().right)}`;
    return { scrollWidth: document.documentElement.scrollWidth, innerWidth: width, culprits: out.slice(0, 5).map(describe) };
  });
  expect(scrollWidth, `${where}: the page is wider than the window; sticking out: ${culprits.join('; ')}`).toBeLessThanOrEqual(innerWidth);
}

/** Presses Tab (only the keyboard) until `target` has the focus. */
export async function tabTo(page: Page, target: ReturnType<Page['locator']>, most = 40): Promise<void> {
  for (let i = 0; i < most; i += 1) {
    if (await target.evaluate((el) => el === document.activeElement).catch(() => false)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${target.toString()}`);
}
