// Processes the benches start and stop: sotto-servers as deployed, and programs timed to ready with their RSS.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { profileArgs } from "../report.js";

/** Polls `check` every 20 ms until it holds; throws after `timeoutMs`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A sotto-server in its own process (as deployed), with its users created up front. */
export interface ServerProcess {
  /** Its process id: its CPU counts on a 2-core machine (`threadTimes(pid)`). */
  readonly pid: number;
  readonly origin: string;
  readonly users: Record<string, { actorId: string; token: string }>;
  close(): Promise<void>;
}

const serverScript = `
import { startServer } from "@sotto/server";
const server = await startServer({ dataDir: process.env.SOTTO_BENCH_DIR });
const users = {};
for (const name of process.env.SOTTO_BENCH_USERS.split(",")) users[name] = await server.createUser(name);
process.stdout.write(JSON.stringify({ origin: server.origin, users }) + "\\n");
process.once("SIGTERM", () => server.close().then(() => process.exit(0)));
`;

export async function serverProcess(dataDir: string, users: string[]): Promise<ServerProcess> {
  // With SOTTO_BENCH_PROFILE=<dir>, the server writes a V8 CPU profile there when it stops.
  const child = spawn(process.execPath, [...profileArgs(), "--input-type=module", "-e", serverScript], {
    // Where `@sotto/server` resolves: this package's directory.
    cwd: fileURLToPath(new URL("../..", import.meta.url)),
    env: { ...process.env, SOTTO_BENCH_DIR: dataDir, SOTTO_BENCH_USERS: users.join(",") },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("\n")) resolve(out.slice(0, out.indexOf("\n")));
    });
    child.once("exit", (code) => reject(new Error(`server exited (${code})`)));
  });
  const started = JSON.parse(line) as { origin: string; users: ServerProcess["users"] };
  return {
    ...started,
    pid: child.pid as number,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/** The resident set of a process, in KiB (VmRSS). */
export function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
}

/** Spawns a process, times it to its ready line, reads its RSS after 2 s idle, then SIGTERMs it. */
export async function measureProcess(
  command: string,
  args: string[],
  readyMarker: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ readyMs: number; rssKb: number; exitCode: number | null }> {
  const start = performance.now();
  const child: ChildProcess = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"], env });
  try {
    const readyMs = await new Promise<number>((resolve, reject) => {
      let seen = "";
      child.stderr?.on("data", (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes(readyMarker)) resolve(performance.now() - start);
      });
      child.once("exit", (code) => reject(new Error(`exited (${code}) before ready: ${seen.slice(0, 500)}`)));
    });
    await new Promise((r) => setTimeout(r, 2_000));
    const rss = rssKb(child.pid as number);
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    child.kill("SIGTERM");
    return { readyMs, rssKb: rss, exitCode: await exited };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}
