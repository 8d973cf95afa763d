import { defineConfig } from "vitest/config";

// The test runs the whole orchestrator (a server and two daemons as child processes): give it time.
export default defineConfig({
  test: { testTimeout: 240_000, hookTimeout: 60_000, fileParallelism: false },
});
