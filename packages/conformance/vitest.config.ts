import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Real servers, daemons and MLS on a shared, loaded 2-core machine.
    testTimeout: 300_000,
    hookTimeout: 120_000,
  },
});
