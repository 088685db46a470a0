import { defineConfig } from '@playwright/test';

// Debian's Chromium (apt-get install chromium), never a downloaded browser. The stack under
// test is the real one (e2e/stack.sh), on ports 8210-8211 unless E2E_PORT says otherwise.
// E2E_BASE_URL points the run at a stack that is already running (for example `make run`).
const port = Number(process.env.E2E_PORT ?? 8210);
const external = process.env.E2E_BASE_URL;

export default defineConfig({
  testDir: './e2e',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 120_000,
  expect: { timeout: 20_000 },
  reporter: [['list']],
  outputDir: './test-results',
  use: {
    baseURL: external ?? `http://127.0.0.1:${port}`,
    browserName: 'chromium',
    headless: true,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
    actionTimeout: 20_000,
    navigationTimeout: 30_000,
    trace: 'retain-on-failure',
  },
  webServer: external
    ? undefined
    : {
        command: 'bash e2e/stack.sh',
        url: `http://127.0.0.1:${port}/readyz`,
        timeout: 240_000,
        reuseExistingServer: false,
        stdout: 'pipe',
        stderr: 'pipe',
        gracefulShutdown: { signal: 'SIGTERM', timeout: 15_000 },
      },
});
