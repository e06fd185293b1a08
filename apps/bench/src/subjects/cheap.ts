import type { Subject, SubjectOptions } from '../subject.js';
import { CheapSubject, importCheap, cheapPages, configureCheap } from '../mt/subjects/cheap.js';

/**
 * @libmedia/cheap on one thread: its heap (`AllocatorJS` over a WebAssembly.Memory, a
 * free list of size-ordered skip lists) created by importing its module in this run
 * process, sized for the workload, driven exactly as in the multi-thread suite (its one
 * global heap mutex is taken on every call, uncontended here).
 */
export async function createCheapSubject(options: SubjectOptions): Promise<Subject> {
  configureCheap(cheapPages(options.arenaBytes));
  const cheap = await importCheap();
  const memory = (globalThis as { CHeap?: { Memory?: WebAssembly.Memory } }).CHeap?.Memory;
  if (!(memory instanceof WebAssembly.Memory)) throw new Error('@libmedia/cheap: no CHeap.Memory after import');
  return new CheapSubject(cheap.Allocator, memory);
}
