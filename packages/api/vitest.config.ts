import { defineConfig } from "vitest/config";

export default defineConfig({
  // Generating the JSON Schema documents took over 5 s on a loaded two-core machine.
  test: { include: ["src/**/*.test.ts"], testTimeout: 60_000 },
});
