import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // The crash test spawns dozens of child processes on a shared 2-core machine.
    testTimeout: 120_000,
    hookTimeout: 30_000,
  },
});
