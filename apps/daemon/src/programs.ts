// How sottod and sotto run as programs: the esbuild bundles in dist/bin/ (scripts/bundle.mjs), under Node with
// NODE_FLAGS. The bundle script writes these flags into the bundles' shebang, and whatever spawns a program
// (tests, bench, demo, the systemd unit in docs/operations.md) passes the same ones.
import { fileURLToPath } from "node:url";

/**
 * V8 flags that keep an idle sottod small (measured in README.md, "Footprint"). They only act on the node
 * command line: `v8.setFlagsFromString` at run time is too late.
 * - `--no-maglev`: Maglev's code pages in the node binary are never touched (-7 MB RSS);
 * - `--optimize-for-size`: V8 trades some speed for a smaller heap (-6 MB);
 * - `--max-semi-space-size=1`: a 1 MB young generation, enough for a daemon that idles (-2 MB);
 * - `--liftoff-only`: fetch's HTTP parser (llhttp, WebAssembly) is not recompiled by TurboFan, whose compiler
 *   memory (~10 MB in a worker thread's malloc arena) would otherwise stay resident (-10 MB).
 */
export const NODE_FLAGS: readonly string[] = [
  "--no-maglev",
  "--optimize-for-size",
  "--max-semi-space-size=1",
  "--liftoff-only",
];

export type Program = "sottod" | "sotto";

/** The bundle of `program`. (This file sits one level below the package root both as src/ and as dist/.) */
export function programPath(program: Program): string {
  return fileURLToPath(new URL(`../dist/bin/${program}.js`, import.meta.url));
}

/** The node arguments that run `program` with `args` as its users do: `spawn(process.execPath, programArgs(...))`. */
export function programArgs(program: Program, args: readonly string[]): string[] {
  return [...NODE_FLAGS, programPath(program), ...args];
}
