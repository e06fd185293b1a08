import { fileURLToPath } from 'node:url';
import { defaultClientConditions, defineConfig } from 'vite';

// A shared heap is a SharedArrayBuffer, which a browser hands out only to a cross-origin
// isolated page: its document (and the worker's script) served with these two headers.
// The dev server (`npm run dev`) and the preview server (`npm run preview`, the build in
// dist/) send them; so must any server the built page is deployed on.
const crossOriginIsolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  logLevel: 'warn',
  // In this repository only: the workspace packages from their src/ (the "@hakmem/source"
  // export condition), so the page builds on a fresh clone with nothing built. A project
  // that installs @hakmem/allocator from npm needs no resolve option at all. The option
  // replaces vite's default conditions, so they are named again.
  resolve: {
    conditions: ['@hakmem/source', ...defaultClientConditions],
  },
  server: { headers: crossOriginIsolation },
  preview: { headers: crossOriginIsolation },
  // The worker is an ES module worker (`new Worker(new URL(…), { type: 'module' })`).
  worker: { format: 'es' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    reportCompressedSize: false,
  },
});
