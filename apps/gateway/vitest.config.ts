import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    globalSetup: ["./src/testing/global-setup.ts"],
    testTimeout: 90_000,
    hookTimeout: 120_000,
    // Each file starts its own Prosody (and Fedify servers); two cores are shared, so run files one by one.
    fileParallelism: false,
  },
});
