import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// A static page: `vite build` writes dist/ (index.html and hashed assets, relative
// URLs), which bin/heap-viewer.mjs serves with the snapshot file, or any static server.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    reportCompressedSize: false,
  },
});
