import type { SubjectFactory } from '../subject.js';

export interface SubjectEntry {
  readonly name: string;
  readonly description: string;
  /**
   * Loads the subject's code (lazily: a run process loads one subject only): resolves to its factory, or rejects with the reason it
   * cannot run here (e.g. its package is not there yet).
   */
  load(): Promise<SubjectFactory>;
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
    name: 'seglist',
    description: 'reference: a minimal segregated free list in plain JS (16-byte classes, no checks, no reuse across classes)',
    load: async () => (await import('./seglist.js')).createSeglistSubject,
  },
  {
    name: 'null',
    description: 'does nothing: malloc returns one fixed address, free is a no-op (the harness ceiling)',
    load: async () => (await import('./null.js')).createNullSubject,
  },
];

export function findSubject(name: string): SubjectEntry {
  const entry = subjects.find((s) => s.name === name);
  if (!entry) throw new Error(`unknown subject "${name}" (known: ${subjects.map((s) => s.name).join(', ')})`);
  return entry;
}

