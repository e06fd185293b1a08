import type { MtSubject } from '../api.js';

export interface MtSubjectEntry {
  readonly name: string;
  readonly description: string;
  /**
   * Loads the subject's module (lazily: a process and its workers load one only);
   * rejects with the reason when it cannot run here.
   */
  load(): Promise<MtSubject>;
}

export const mtSubjects: readonly MtSubjectEntry[] = [
  {
    name: 'hakmem',
    description: "hakmem's heap on shared memory: createHeap({ shared: true }) + heap.share() on the main thread, attachHeap(handle) in each worker",
    load: async () => (await import('./hakmem.js')).hakmemMt,
  },
  {
    name: 'thing-locked',
    description: '@thi.ng/malloc MemPool over one SharedArrayBuffer, every malloc and free under one global Atomics mutex',
    load: async () => (await import('./thing-locked.js')).thingLockedMt,
  },
  {
    name: 'cheap',
    description: "@libmedia/cheap's allocator (one shared WebAssembly.Memory, one global spin lock), initThread() in each worker",
    load: async () => (await import('./cheap.js')).loadCheapMt(),
  },
  {
    name: 'null',
    description: 'does nothing: malloc returns one fixed address, free is a no-op (the harness ceiling and its scaling)',
    load: async () => (await import('./null.js')).nullMt,
  },
];

export function findMtSubject(name: string): MtSubjectEntry {
  const entry = mtSubjects.find((s) => s.name === name);
  if (!entry) throw new Error(`unknown multi-thread subject "${name}" (known: ${mtSubjects.map((s) => s.name).join(', ')})`);
  return entry;
}
