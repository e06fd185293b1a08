import { fileURLToPath } from 'node:url';
import { defaultClientConditions, defineConfig } from 'vite';

// A static page: `vite build` writes dist/ (index.html and hashed assets, relative
// URLs), which bin/heap-viewer.mjs serves with the snapshot file, or any static server.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  logLevel: 'warn',
  // The workspace packages (@hakmem/allocator) from their src/ through the "@hakmem/source"
  // export condition, as vitest and tsc take them: the page builds on a fresh clone with no
  // package built, and never from a dist/ older than the source. The option replaces
  // vite's default conditions, so they are named again.
  resolve: {
    conditions: ['@hakmem/source', ...defaultClientConditions],
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    reportCompressedSize: false,
  },
});
