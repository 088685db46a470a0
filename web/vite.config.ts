/// <reference types="vitest/config" />
import { fileURLToPath, URL } from 'node:url';
import tailwindcss from '@tailwindcss/vite';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Django serves the built app: hashed files under /static/ (whitenoise), index.html for
// every client-side route. In development Vite proxies REST to the Django port and /ws to
// the ASGI server's port (PORT and WS_PORT as in `make run`).
const backendPort = Number(process.env.PORT ?? 8000);
const wsPort = Number(process.env.WS_PORT ?? backendPort + 1);

export default defineConfig(({ command }) => ({
  base: command === 'build' ? '/static/' : '/',
  plugins: [react(), tailwindcss()],
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false },
  server: {
    port: 5173,
    proxy: {
      '/api': { target: `http://127.0.0.1:${backendPort}`, changeOrigin: false },
      '/healthz': `http://127.0.0.1:${backendPort}`,
      '/ws': { target: `ws://127.0.0.1:${wsPort}`, ws: true },
    },
  },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['./src/testing/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    restoreMocks: true,
    env: { VITE_API_URL: 'http://api.test' },
    testTimeout: 15000,
  },
}));
