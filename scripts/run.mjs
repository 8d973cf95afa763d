#!/usr/bin/env node
// The two commands of the README work on a machine that has only Node.js (20+) and npm:
// this bootstraps pnpm through npx, installs the workspace (which brings Node 24 as the `node`
// devDependency), then hands over to a pnpm script, where Node 24 is first on PATH.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { packageManager } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const [task, ...args] = process.argv.slice(2);
const tasks = new Set(["start", "test", "bench"]);
if (!tasks.has(task)) {
  console.error(`usage: node scripts/run.mjs <${[...tasks].join("|")}> [args...]`);
  process.exit(2);
}

function pnpm(pnpmArgs) {
  const result = spawnSync("npx", ["--yes", packageManager, ...pnpmArgs], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, COREPACK_ENABLE_STRICT: "0" },
  });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

console.error(`[sotto] installing dependencies with ${packageManager} ...`);
const frozen = process.env.CI ? ["--frozen-lockfile"] : [];
let status = pnpm(["install", "--prefer-offline", ...frozen]);
if (status !== 0) process.exit(status);

console.error(`[sotto] running ${task} ...`);
status = pnpm(["run", `task:${task}`, ...(args.length ? ["--", ...args] : [])]);
process.exit(status);
