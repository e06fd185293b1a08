import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SubjectFactory } from '../subject.js';

export interface SubjectEntry {
  readonly name: string;
  readonly description: string;
  /**
   * Loads the subject's code (lazily: a run process loads one subject only): resolves to its factory, or rejects with the reason it
   * cannot run here (e.g. its package is not there yet).
   */
  load(): Promise<SubjectFactory>;
  /**
   * Why this subject does not run `workload` (it cannot serve it by design), or
   * undefined when it does. The runner leaves such pairs out and says so.
   */
  notFor?(workload: string): string | undefined;
}

export const subjects: readonly SubjectEntry[] = [
  {
    name: 'hakmem',
    description: "hakmem's default heap: createHeap() from @hakmem/allocator",
    load: async () => (await import('./hakmem.js')).createHakmemSubject,
  },
  {
    name: 'thing',
    description: '@thi.ng/malloc MemPool (first-fit free list over a fixed ArrayBuffer), default options',
    load: async () => (await import('./thing.js')).createThingSubject,
  },
  {
    name: 'cheap',
    description: '@libmedia/cheap AllocatorJS (size-ordered skip-list free lists over a WebAssembly.Memory, one heap mutex), on one thread',
    load: async () => {
      const { loadCheapMt } = await import('../mt/subjects/cheap.js');
      loadCheapMt(); // throws when the package is not installed
      return (await import('./cheap.js')).createCheapSubject;
    },
  },
  {
    name: 'seglist',
    description: 'reference: a minimal segregated free list in plain JS (16-byte classes, no checks, no reuse across classes)',
    load: async () => (await import('./seglist.js')).createSeglistSubject,
    // One bump page per 16-byte class and no reuse across classes: the pool and large
    // bands' thousands of distinct sizes exhaust any fixed buffer.
    // The traces ask for thousands of distinct sizes up to 16 MiB (sqlite3-sql): past its
    // 2 MiB class table it would index out of bounds, and below it the one-page-per-class
    // scheme exhausts the buffer; it has no realloc/calloc/memalign either.
    notFor: (w) =>
      w === 'pool' || w === 'large'
        ? 'no reuse across its 16-byte classes: the band\'s distinct sizes exhaust its buffer'
        : w.startsWith('trace:')
          ? 'classes only up to 2 MiB and no reuse across them: a trace\'s distinct sizes (up to 16 MiB) overrun its class table and buffer'
          : undefined,
  },
  {
    name: 'null',
    description: 'does nothing: malloc returns one fixed address, free is a no-op (the harness ceiling)',
    load: async () => (await import('./null.js')).createNullSubject,
  },
];

/**
 * A subject by name, or by spec: `hakmem:PRESET` (see `PRESETS` in hakmem.ts), or the
 * path of a module of yours exporting a heap (`./my-heap.ts`, resolved from the current
 * directory; see `createModuleSubject`).
 */
export function findSubject(name: string): SubjectEntry {
  const entry = subjects.find((s) => s.name === name);
  if (entry) return entry;
  if (name.startsWith('hakmem:')) {
    const preset = name.slice('hakmem:'.length);
    return {
      name,
      description: `hakmem's heap, preset ${preset}`,
      load: async () => (await import('./hakmem.js')).createPresetSubject(preset),
    };
  }
  if (isModulePath(name)) {
    const url = pathToFileURL(resolve(process.cwd(), name)).href;
    return {
      name,
      description: `the heap exported by ${name}`,
      async load() {
        const { createModuleSubject } = await import('./hakmem.js');
        await import(url);
        return (options) => createModuleSubject(url, options);
      },
    };
  }
  throw new Error(`unknown subject "${name}" (known: ${subjects.map((s) => s.name).join(', ')}, hakmem:PRESET, or a module path)`);
}

function isModulePath(name: string): boolean {
  return name.includes('/') || /\.(?:[cm]?[jt]s)$/.test(name);
}

