// What `npm test` prints last: the test totals, and again what each failed task said about its failure. CI
// shows the end of a long log; Turborepo prints a task's output when the task ends, so a package that failed
// early had its errors scrolled out of sight under the later packages' passing lines.

const KEPT_LINES = 60; // of a failed task that printed no Vitest "Failed Tests" section (typecheck, lint)
const FAILED_SECTION_LINES = 200; // per task: Vitest's failed suites and tests with their errors and stacks

// biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes
const ansi = /\u001b\[[0-9;]*m/g;

/** Reads the lines Turborepo prints (`<package>:<task>: ...`) and tells what `npm test` ends with. */
export function createTestReport() {
  const totals = { passed: 0, failed: 0, skipped: 0 };
  let failedFiles = 0; // a suite whose set-up failed counts its tests as skipped, not failed
  /** @type {Map<string, { tail: string[], failures: string[], inFailures: boolean }>} */
  const tasks = new Map();
  const failedTasks = new Set();

  function line(raw) {
    const plain = raw.replace(ansi, "");
    // "@sotto/demo#test:  ERROR  command (...) exited (1)": the task failed.
    const failed = plain.match(/^(\S+)#(\S+?):\s+ERROR\s/);
    if (failed) failedTasks.add(`${failed[1]}:${failed[2]}`);
    const prefixed = plain.match(/^(\S+?:\S+?):\s?(.*)$/);
    if (!prefixed) return;
    const [, task, text] = prefixed;
    const state = tasks.get(task) ?? { tail: [], failures: [], inFailures: false };
    tasks.set(task, state);
    state.tail.push(text);
    if (state.tail.length > KEPT_LINES) state.tail.shift();
    if (/⎯ Failed (Suites|Tests) \d+ ⎯/.test(text)) state.inFailures = true;
    else if (/^\s*Test Files\s/.test(text)) state.inFailures = false;
    if (state.inFailures && state.failures.length < FAILED_SECTION_LINES) state.failures.push(text);
    const files = text.match(/^\s*Test Files\s+(\d+) failed/);
    if (files && /:test$/.test(task)) failedFiles += Number(files[1]);
    if (/^\s*Tests\s/.test(text) && /:test$/.test(task)) {
      for (const kind of Object.keys(totals)) {
        const m = text.match(new RegExp(`(\\d+) ${kind}`));
        if (m) totals[kind] += Number(m[1]);
      }
    }
  }

  function summary() {
    const out = [];
    for (const task of failedTasks) {
      const state = tasks.get(task);
      out.push(`\n=== ${task} failed; what it said:`);
      out.push(...(state?.failures.length ? state.failures : (state?.tail ?? ["(no output)"])));
    }
    out.push(
      `\ntests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped` +
        (failedFiles ? ` (${failedFiles} test file${failedFiles === 1 ? "" : "s"} failed)` : ""),
    );
    return out.join("\n");
  }

  return { line, summary, totals };
}
