import { defineConfig } from 'vitest/config';

// One configuration for the whole workspace. Workspace packages resolve to their
// src/ through the "@hakmem/source" export condition, so no build is needed first.
export default defineConfig({
  resolve: {
    conditions: ['@hakmem/source'],
  },
  ssr: {
    resolve: {
      conditions: ['@hakmem/source'],
      externalConditions: ['@hakmem/source'],
    },
  },
  test: {
    include: ['{packages,apps,tools,examples,boxes-contrib}/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**', '**/fixtures/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', './tools/vitest-summary-reporter.ts'],
  },
});
