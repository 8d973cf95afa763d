#!/usr/bin/env node
// The two commands of the README work on a machine that has only Node.js (20+) and npm:
// this bootstraps pnpm through npx, installs the workspace (which brings Node 24 as the `node`
// devDependency), then hands over to a pnpm script, where Node 24 is first on PATH.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTestReport } from "./test-report.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { packageManager } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const [task, ...args] = process.argv.slice(2);
const tasks = new Set(["start", "test", "bench"]);
if (!tasks.has(task)) {
  console.error(`usage: node scripts/run.mjs <${[...tasks].join("|")}> [args...]`);
  process.exit(2);
}

// Ctrl-C reaches the whole foreground process group: let the children shut down and report their status.
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => {});

console.error(`[sotto] installing dependencies with ${packageManager} ...`);
const frozen = process.env.CI ? ["--frozen-lockfile"] : [];
const installed = await pnpm(["install", "--prefer-offline", ...frozen]);
if (installed !== 0) process.exit(installed);

console.error(`[sotto] running ${task} ...`);
const taskArgs = ["run", `task:${task}`, ...(args.length ? ["--", ...args] : [])];
process.exit(await pnpm(taskArgs, { countTests: task === "test" }));

/**
 * Runs pnpm 12 through npx. With `countTests`, passes the output through, then ends it with the test totals (Vitest's
 * per-package "Tests" lines added up, replayed ones too when Turborepo serves a package from its cache) and what
 * each failed task said (scripts/test-report.mjs).
 */
async function pnpm(pnpmArgs, { countTests = false } = {}) {
  const piped = countTests ? "pipe" : "inherit";
  const child = spawn("npx", ["--yes", packageManager, ...pnpmArgs], {
    cwd: root,
    stdio: ["inherit", piped, piped],
    env: { ...process.env, COREPACK_ENABLE_STRICT: "0" },
  });
  const report = createTestReport();
  // Turborepo writes a task's output to stdout and its "ERROR ... exited (1)" to stderr: read both.
  for (const [stream, out] of countTests
    ? [
        [child.stdout, process.stdout],
        [child.stderr, process.stderr],
      ]
    : []) {
    let pending = "";
    stream.on("data", (chunk) => {
      out.write(chunk);
      const lines = (pending + chunk.toString("utf8")).split("\n");
      pending = lines.pop() ?? "";
      lines.forEach(report.line);
    });
    stream.on("end", () => report.line(pending));
  }
  const code = await new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (c, signal) => resolve(c ?? (signal ? 130 : 1)));
  });
  if (countTests) console.log(report.summary());
  return code;
}
