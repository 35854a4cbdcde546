/**
 * Prints one plain closing line, `Tests: N passed, N failed, N skipped`, after
 * vitest's own summary: a line any CI can read without knowing vitest. Before
 * it, one `failed: <file> > <test>: <first line of the error>` line per
 * failure, so the end of a long log still names what failed.
 */
import path from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    const count = { passed: 0, failed: 0, skipped: 0 };
    const failures: string[] = [];
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') count.passed++;
        else if (state === 'failed') {
          count.failed++;
          const error = test.result().errors?.[0];
          failures.push(`${relative(module.moduleId)} > ${test.fullName}: ${firstLine(error)}`);
        } else count.skipped++;
      }
      // A file that failed to load has no tests to count, but it is a failure.
      if (module.state() === 'failed' && [...module.children.allTests()].length === 0) {
        count.failed++;
        failures.push(`${relative(module.moduleId)}: ${firstLine(module.errors()[0])}`);
      }
    }
    count.failed += unhandledErrors.length;
    for (const error of unhandledErrors) failures.push(`unhandled: ${firstLine(error)}`);
    for (const failure of failures) process.stdout.write(`\nfailed: ${failure}`);
    process.stdout.write(`\nTests: ${count.passed} passed, ${count.failed} failed, ${count.skipped} skipped\n`);
  }
}

function firstLine(error: unknown): string {
  const message = error && typeof error === 'object' && 'message' in error ? String(error.message) : String(error);
  return message.split('\n', 1)[0] ?? '';
}

function relative(file: string): string {
  return path.relative(process.cwd(), file);
}
