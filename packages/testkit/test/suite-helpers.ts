import { expect, test } from 'vitest';
import type { ConformanceCase } from '../src/conformance/types.js';

/**
 * Registers every case of `suite` as a test. A case named in `knownGaps` (a contract
 * clause the box under test does not honour yet) runs as `test.fails`, so the gap stays
 * visible and the test turns red once the box is fixed (then remove the entry). Case
 * names must be unique.
 */
export function runSuite(suite: readonly ConformanceCase[], knownGaps: ReadonlySet<string> = new Set()): void {
  const names = new Set<string>();
  for (const c of suite) {
    expect(names.has(c.name), `duplicate case name ${c.name}`).toBe(false);
    names.add(c.name);
    if (knownGaps.has(c.name)) test.fails(`${c.name} [known gap]`, () => c.run());
    else test(c.name, () => c.run());
  }
}

/** Runs every case; returns the names of those that threw, with their messages. */
export async function failures(suite: readonly ConformanceCase[]): Promise<Map<string, string>> {
  const failed = new Map<string, string>();
  for (const c of suite) {
    try {
      await c.run();
    } catch (e) {
      failed.set(c.name, e instanceof Error ? e.message : String(e));
    }
  }
  return failed;
}

/** The name of the one case of `suite` that contains `fragment`. */
export function caseNamed(suite: readonly ConformanceCase[], fragment: string): string {
  const names = suite.map((c) => c.name).filter((n) => n.includes(fragment));
  expect(names, `one case whose name contains "${fragment}"`).toHaveLength(1);
  return names[0]!;
}

/** Runs the one case whose name contains `fragment` and returns its failure message (throws if it passes). */
export async function failureOf(suite: readonly ConformanceCase[], fragment: string): Promise<string> {
  return failureOfCase(suite.find((x) => x.name === caseNamed(suite, fragment))!);
}

/** Runs `c` and returns its failure message (throws if it passes). */
export async function failureOfCase(c: ConformanceCase): Promise<string> {
  try {
    await c.run();
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  throw new Error(`case "${c.name}" passed on a broken implementation`);
}

/** `inner` with some members replaced; every other member forwards to `inner` (bound to it). */
export function wrap<T extends object>(inner: T, overrides: Partial<T>): T {
  return new Proxy(inner, {
    get(target, key) {
      if (Object.prototype.hasOwnProperty.call(overrides, key)) return (overrides as Record<PropertyKey, unknown>)[key];
      const v: unknown = Reflect.get(target, key, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/**
 * The stand-in caches' per-class JS lists, mirrored into the Int32Array their `storage`
 * option returns (a magic word, a count per class, then each class's `caps[c]` slots)
 * after every change, and read back when the storage already holds that layout — what the
 * storage clauses ask of a cache (undefined storage: JS lists only).
 */
export function mirroredLists(caps: readonly number[], storage: ((words: number) => Int32Array) | undefined): { lists: number[][]; sync: () => void } {
  const MAGIC = 0x5743;
  const n = caps.length;
  const lists: number[][] = caps.map(() => []);
  const st = storage?.(1 + n + caps.reduce((a, b) => a + b, 0));
  const at = (c: number): number => 1 + n + caps.slice(0, c).reduce((a, b) => a + b, 0);
  if (st !== undefined && st[0] === MAGIC) lists.forEach((l, c) => l.push(...st.subarray(at(c), at(c) + st[1 + c]!)));
  const sync = (): void => {
    if (st === undefined) return;
    st[0] = MAGIC;
    lists.forEach((l, c) => {
      st[1 + c] = l.length;
      st.set(l.slice(0, caps[c]), at(c));
    });
  };
  return { lists, sync };
}
