// Every command block (```sh) of docs/quickstart.md and docs/operations.md runs as written: each page's blocks
// in order, in one bash session (as a reader pastes them into one terminal), from the repository's root. A block
// that fails names itself. Blocks that need systemd or a MariaDB host (they begin with `# systemd:` or
// `# mariadb:`) can only be checked for syntax here. The quickstart's `npm start -- --demo` runs in the background
// until its banner, as in a second terminal.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../../", import.meta.url));

/** The ```sh blocks of a Markdown page, in order. */
function commandBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```(?:sh|bash)\n([\s\S]*?)^```$/gm)].map((m) => m[1] as string);
}

const SYSTEMD = /^# (systemd|mariadb):/;

interface Session {
  readonly child: ChildProcess;
  output(): string;
  readonly exit: Promise<number | null>;
}

/** Runs `script` in bash in its own process group (so everything it leaves running can be stopped). */
function bash(script: string, env: NodeJS.ProcessEnv): Session {
  const child = spawn("bash", ["-e", "-u", "-x", "-c", script], { cwd: root, env, detached: true });
  let output = "";
  child.stdout?.on("data", (chunk) => (output += chunk));
  child.stderr?.on("data", (chunk) => (output += chunk));
  const exit = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return { child, output: () => output, exit };
}

/** Stops a session's whole process group: SIGINT (Ctrl-C), then SIGKILL if it lingers. */
async function stop(session: Session): Promise<void> {
  const group = -(session.child.pid as number);
  try {
    process.kill(group, "SIGINT");
  } catch {
    return; // already gone
  }
  const timer = setTimeout(() => {
    try {
      process.kill(group, "SIGKILL");
    } catch {}
  }, 30_000);
  await session.exit;
  clearTimeout(timer);
  try {
    process.kill(group, "SIGTERM"); // anything a block left running in the background
  } catch {}
}

/** The blocks of a page as one script; each says which block it is first, so a failure names its block. */
function script(blocks: readonly string[]): string {
  return blocks
    .map((block, i) =>
      SYSTEMD.test(block)
        ? `echo "[block ${i + 1}: syntax only] at \${SECONDS}s"\nbash -n <<'SOTTO_BLOCK'\n${block}SOTTO_BLOCK\n`
        : `echo "[block ${i + 1}] at \${SECONDS}s"\n${block}`,
    )
    .join("\n");
}

async function runPage(blocks: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  const session = bash(script(blocks), env);
  const timer = setTimeout(() => void stop(session), 240_000);
  const code = await session.exit;
  clearTimeout(timer);
  await stop(session);
  // Where a slow page spends its time, in the test's output.
  console.log(
    session
      .output()
      .match(/^\[block \d+[^\]]*\] at \d+s$/gm)
      ?.join(" "),
  );
  const failed = session.output().match(/\[block (\d+)[^\]]*\](?![\s\S]*\[block \d)/)?.[1];
  if (code !== 0) {
    const block = blocks[Number(failed) - 1];
    throw new Error(
      `block ${failed} exited ${code}:\n${block}\n--- output ---\n${session.output().slice(-4000)}`,
    );
  }
}

const tooling: NodeJS.ProcessEnv = {
  ...process.env,
  // Node 24 first on PATH, as the pages require.
  PATH: `${dirname(process.execPath)}:${process.env.PATH}`,
};

describe("the command blocks of the docs run as written", () => {
  const temps: string[] = [];
  afterAll(() => {
    for (const dir of temps) rmSync(dir, { recursive: true, force: true });
  });

  it("docs/operations.md, in a fresh home directory", async () => {
    const blocks = commandBlocks(readFileSync(join(root, "docs/operations.md"), "utf8"));
    expect(blocks.length).toBeGreaterThan(5);
    const home = mkdtempSync(join(tmpdir(), "sotto-ops-home-"));
    temps.push(home);
    const {
      SOTTO_STATE_DIR: _a,
      XDG_STATE_HOME: _b,
      SOTTO_API_URL: _c,
      SOTTO_TOKEN_FILE: _d,
      ...env
    } = tooling;
    await runPage(blocks, {
      ...env,
      HOME: home,
      // The package managers' caches and store stay where this machine keeps them (a reader has their own).
      npm_config_cache: process.env.npm_config_cache ?? join(homedir(), ".npm"),
      npm_config_store_dir: execFileSync("npx", ["--yes", "pnpm@12.21.0", "store", "path"], {
        cwd: root,
        encoding: "utf8",
        env: tooling,
      }).trim(),
    });
    // What the page promised: the restored store under its new key ran, and the export exists.
    expect(existsSync(join(home, "backup/alice.sotto-export"))).toBe(true);
    expect(existsSync(join(home, "restored/sotto.db"))).toBe(true);
  }, 600_000);

  it("docs/quickstart.md, beside the demo it starts", async () => {
    const blocks = commandBlocks(readFileSync(join(root, "docs/quickstart.md"), "utf8"));
    const [start, ...rest] = blocks;
    expect(start?.trim()).toBe("npm start -- --demo");
    const createdState = !existsSync(join(root, ".sotto"));
    const demo = bash(start as string, tooling);
    try {
      const started = Date.now();
      const deadline = started + 300_000;
      while (!demo.output().includes("Sotto is running")) {
        if (demo.child.exitCode !== null || Date.now() > deadline) {
          throw new Error(`npm start -- --demo did not come up:\n${demo.output().slice(-4000)}`);
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      console.log(`npm start -- --demo came up in ${Math.round((Date.now() - started) / 1000)} s`);
      await runPage(rest, tooling);
    } finally {
      await stop(demo);
      if (createdState) rmSync(join(root, ".sotto"), { recursive: true, force: true });
    }
  }, 600_000);
});
