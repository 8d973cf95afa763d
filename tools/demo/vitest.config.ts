import { defineConfig } from "vitest/config";

// The tests run the whole orchestrator (a server and two daemons as child processes), Chromium too, and bound
// their own waits (up to 240 s for the demo to come up): the timeouts stay above those on a loaded machine.
export default defineConfig({
  test: { testTimeout: 600_000, hookTimeout: 180_000, fileParallelism: false },
});
