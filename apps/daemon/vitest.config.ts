import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The slowest files, slowest first (measured in a full CI run: docs 6.3 min, fuzz 2.1 min, CLI 1.6 min), so
 * that on two workers they do not start last and leave one worker idle at the end of the run.
 */
const SLOWEST = ["docs.e2e.test.ts", "fuzz.e2e.test.ts", "cli.e2e.test.ts"];

class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (spec: TestSpecification) => {
      const i = SLOWEST.findIndex((name) => spec.moduleId.endsWith(`/${name}`));
      return i === -1 ? SLOWEST.length : i;
    };
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

// Every file makes its own servers, daemons and directories on free ports, so two run at once: the package's
// e2e files one after another took over 20 minutes. Set-up hooks start servers and run `sottod init` (Argon2id)
// several times: the CLI file's took over 60 s in a full run at load 15, so hooks get four minutes.
export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 240_000,
    maxWorkers: 2,
    sequence: { sequencer: SlowestFirst },
  },
});
