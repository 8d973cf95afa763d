// How sottod and sotto run as programs: the esbuild bundles in dist/bin/ (scripts/bundle.mjs), under Node with
// NODE_FLAGS. The bundle script writes these flags into the bundles' shebang, and whatever spawns a program
// (tests, bench, demo, the systemd unit in docs/operations.md) passes the same ones, and PROGRAM_ENV.
import { fileURLToPath } from "node:url";

/**
 * V8 flags for sottod (measured in README.md, "Footprint" and "A young generation that grows for a catch-up").
 * They only act on the node command line: `v8.setFlagsFromString` at run time is too late for the main
 * thread's heap.
 * - `--max-opt=2`: JS tiers up to Maglev, never to TurboFan. Start-up ran one or two functions hot enough for
 *   TurboFan (zod's schema constructor, the HTML entity table's decoder), and that compile touched ~4 MB more of
 *   the node binary's code pages, which then stayed resident (-4 to -5 MB). Maglev is also what a catch-up
 *   needs: the receive path's many small functions get optimized code after 400 calls instead of 3,000 (the
 *   earlier `--no-maglev` cost the catch-up ~1.4x its CPU), and the MLS engine ran no slower without TurboFan;
 * - `--max-semi-space-size=16`: a young generation of up to 16 MB, so that the items a catch-up holds in
 *   flight die young; under the 1 MB one before, they were promoted and the old generation marked again and
 *   again (a third of the catch-up's CPU). An idle sottod gives it back (`--expose-gc`, memoryReducer.ts);
 * - `--heap-growing-percent=50`: the old generation grows by half at a time, so a catch-up's memory stays
 *   near what it holds (`npm run bench -- soak`: peak 184 MB against 239 without it) with a third as many
 *   mark-compacts as under 20, the value before (5-13% less CPU per caught-up message, the same peak);
 * - `--expose-gc`: lets the memory reducer run the collection that shrinks the young generation once idle;
 * - `--liftoff-only`: fetch's HTTP parser (llhttp, WebAssembly) is not recompiled by TurboFan, whose compiler
 *   memory (~10 MB in a worker thread's malloc arena) would otherwise stay resident (-10 MB).
 */
export const NODE_FLAGS: readonly string[] = [
  "--max-opt=2",
  "--max-semi-space-size=16",
  "--heap-growing-percent=50",
  "--expose-gc",
  "--liftoff-only",
];

/**
 * Environment for the programs' processes (measured in README.md, "Footprint" and "The malloc threshold"):
 * glibc's malloc serves blocks from 128 KiB up with their own mappings, which go back to the system when
 * freed. Fixed, the threshold no longer grows after start-up frees larger blocks (the default, dynamic one let
 * the main arena keep 6 to 12 MB resident). 32 KiB, the value before, kept idle RSS ~0.5 MB lower but gave
 * every 32-128 KiB block of a catch-up (socket reads, compiler zones) a mapping of its own, faulted in page by
 * page again each time: a fifth of a catch-up's CPU on the test machine.
 */
export const PROGRAM_ENV: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: "131072" };

/** `env` (default: this process's) with PROGRAM_ENV, for `spawn(..., { env: programEnv() })`. */
export function programEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...env, ...PROGRAM_ENV };
}

/** The shebang that runs a program with PROGRAM_ENV and NODE_FLAGS (written by scripts/bundle.mjs). */
export const SHEBANG = `#!/usr/bin/env -S ${Object.entries(PROGRAM_ENV)
  .map(([name, value]) => `${name}=${value}`)
  .join(" ")} node ${NODE_FLAGS.join(" ")}`;

export type Program = "sottod" | "sotto";

/** The bundle of `program`. (This file sits one level below the package root both as src/ and as dist/.) */
export function programPath(program: Program): string {
  return fileURLToPath(new URL(`../dist/bin/${program}.js`, import.meta.url));
}

/**
 * The node arguments that run `program` with `args` as its users do:
 * `spawn(process.execPath, programArgs(...), { env: programEnv() })`.
 */
export function programArgs(program: Program, args: readonly string[]): string[] {
  return [...NODE_FLAGS, programPath(program), ...args];
}
