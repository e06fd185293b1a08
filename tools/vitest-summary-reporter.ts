import type { Reporter, TestModule, TestRunEndReason, Vitest } from 'vitest/node';

/**
 * Prints one plain closing line, `Tests: N passed, N failed, N skipped`, after vitest's
 * own summary, so that any CI reading plain output sees the totals.
 *
 * The failed count agrees with vitest's exit code: besides the failed tests it counts
 * every failure outside a test, which vitest fails the run for although no test failed —
 * a file that did not load or whose describe body threw (an error on the module), a
 * beforeAll/afterAll hook that threw (an error on its suite or module; the tests of a
 * failed beforeAll are reported as skipped), and each unhandled error. When there are
 * some, the line says how many: `Tests: N passed, N failed (N outside a test), N skipped`.
 */
export default class SummaryReporter implements Reporter {
  private countUnhandled = true;

  onInit(vitest: Vitest): void {
    // With this option vitest does not fail the run for unhandled errors: nor does the line.
    this.countUnhandled = !vitest.config.dangerouslyIgnoreUnhandledErrors;
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>, reason: TestRunEndReason): void {
    const c = summarize(testModules, this.countUnhandled ? unhandledErrors.length : 0, reason);
    const outside = c.outside > 0 ? ` (${c.outside} outside a test)` : '';
    const interrupted = reason === 'interrupted' ? ', interrupted' : '';
    process.stdout.write(`\nTests: ${c.passed} passed, ${c.failed} failed${outside}, ${c.skipped} skipped${interrupted}\n`);
  }
}

/** The totals of a run: `failed` counts the failed tests and the `outside` failures. */
function summarize(
  testModules: ReadonlyArray<TestModule>, unhandledErrors: number, reason: TestRunEndReason,
): { passed: number; failed: number; skipped: number; outside: number } {
  let passed = 0;
  let failedTests = 0;
  let skipped = 0;
  let outside = unhandledErrors;
  for (const m of testModules) {
    let inModule = 0;
    for (const t of m.children.allTests()) {
      const s = t.result().state;
      if (s === 'passed') passed++;
      else if (s === 'failed') inModule++;
      else skipped++;
    }
    failedTests += inModule;
    // A module or suite with errors of its own failed outside its tests: one failure each.
    let errors = m.errors().length > 0 ? 1 : 0;
    for (const s of m.children.allSuites()) if (s.errors().length > 0) errors++;
    // A failed module counts at least once, whatever made vitest fail it.
    if (!m.ok() && inModule + errors === 0) errors = 1;
    outside += errors;
  }
  // A run vitest failed (no test file, say) is never summed up as 0 failed.
  if (reason === 'failed' && failedTests + outside === 0) outside = 1;
  return { passed, failed: failedTests + outside, skipped, outside };
}
