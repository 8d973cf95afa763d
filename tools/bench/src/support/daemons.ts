// In-process daemons of the benches: each in `dir`, with a fresh store key and a small KeyPackage pool.
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createLogger, type DaemonOptions } from "@sotto/daemon";

/** Errors only, unless SOTTO_BENCH_LOG=warn asks for more. */
export const quiet = createLogger({ level: (process.env.SOTTO_BENCH_LOG as "warn" | undefined) ?? "error" });

/** Options for the daemon `name` in `dir` (its store `dir/name`, its key written to `dir/name.key`). */
export function benchDaemonOptions(dir: string, name: string): DaemonOptions {
  const keyFile = join(dir, `${name}.key`);
  writeFileSync(keyFile, randomBytes(32), { mode: 0o600 });
  return { dataDir: join(dir, name), key: { keyFile }, logger: quiet, keyPackages: { size: 2 } };
}
