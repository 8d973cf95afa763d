import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    // Real MLS key generation and the fuzz targets run in the suite: give slow CI machines room.
    testTimeout: 120_000,
  },
});
