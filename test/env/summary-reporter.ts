import type { Reporter, SerializedError, TestModule } from "vitest/node";

/** Prints one plain closing line, "summary: N passed, N failed, N skipped", after vitest's own report. */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: readonly TestModule[], unhandledErrors: readonly SerializedError[]): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    for (const module of modules) {
      const failedBefore = counts.failed;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") counts.passed++;
        else if (state === "failed") counts.failed++;
        else counts.skipped++;
      }
      // A file that failed outside any test (an import or a beforeAll hook) counts as one failure.
      if (module.state() === "failed" && counts.failed === failedBefore) counts.failed++;
    }
    // An unhandled error fails the run; count each as a failure so the summary agrees.
    counts.failed += unhandledErrors.length;
    process.stdout.write(
      `\nsummary: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`,
    );
  }
}
