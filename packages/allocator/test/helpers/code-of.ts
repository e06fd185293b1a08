import { HakmemError } from '@hakmem/contracts';

/** The code of the HakmemError `fn` threw, or `returned <value>` when it returned; any other throw goes on. */
export function codeOf(fn: () => unknown): string {
  try {
    return `returned ${String(fn())}`;
  } catch (e) {
    if (e instanceof HakmemError) return e.code;
    throw e;
  }
}
