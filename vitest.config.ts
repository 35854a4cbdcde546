import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Tests import the package by name and get the compiled build, so the
    // worker they exercise is the real file Piscina loads in production.
    alias: { 'auth-probe-pool': fileURLToPath(new URL('./dist/src/index.js', import.meta.url)) },
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: run files in parallel on two forks at most, so probes
    // timing out are not starved into flaky failures.
    maxWorkers: 2,
    teardownTimeout: 10_000,
  },
});
