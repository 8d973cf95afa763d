import { type ChildProcess, execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

// The built binary: from src/testing and from dist/testing alike, two levels up is the package.
const CLI = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;

/** CPU time (user + system) of a process so far, in ms, from /proc (10 ms resolution); NaN once it is gone. */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // USER_HZ ticks on Linux
  } catch {
    return Number.NaN;
  }
}

/** Stops a child: SIGTERM, then SIGKILL if it has not exited within `timeoutMs`; answers its exit code. */
export async function stopChild(
  child: ChildProcess,
  exited: Promise<number | null>,
  timeoutMs = STOP_TIMEOUT_MS,
): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

/** A port the OS just handed out (and took back), for a server that must know its port before it starts. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** Runs one admin command of `sotto-server` (add-user, issue-token, ...) and answers its output lines. */
export function serverCommand(env: NodeJS.ProcessEnv, args: readonly string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, ...env } },
      (error, stdout, stderr) => {
        if (error !== null)
          reject(new Error(`sotto-server ${args[0]} failed: ${stderr.trim() || error.message}`));
        else resolve(stdout.split("\n").filter((line) => line !== ""));
      },
    );
  });
}

/** A local user made with `sotto-server add-user`: its actor id and a first bearer token. */
export interface ProcessUser {
  readonly actorId: string;
  readonly token: string;
}

/** Adds a user through the CLI (on the database the environment names). */
export async function addUser(env: NodeJS.ProcessEnv, origin: string, name: string): Promise<ProcessUser> {
  const lines = await serverCommand(env, ["add-user", name]);
  const token = lines.find((l) => l.startsWith("token "))?.slice("token ".length);
  if (token === undefined) throw new Error(`sotto-server add-user ${name} printed no token`);
  return { actorId: `${origin}/users/${name}`, token };
}

export interface ServerProcessOptions {
  /** Environment of the process (SOTTO_DATA_DIR, SOTTO_PORT, ...), on top of this process's. */
  readonly env: NodeJS.ProcessEnv;
  /** Extra arguments after `run` (e.g. `--role`, `worker`). */
  readonly runArgs?: readonly string[];
  /** Node options of the child, e.g. `--cpu-prof --cpu-prof-dir=DIR` to profile it. */
  readonly nodeArgs?: readonly string[];
}

/** A running `sotto-server run` child process. */
export interface ServerProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** CPU time (user + system) the process has used so far, in ms (10 ms resolution, from /proc). */
  cpuMs(): number;
  /** What it wrote to stderr so far (for a failing test's message). */
  stderr(): string;
  /** SIGTERM and wait for an orderly exit (SIGKILL after a bound); answers the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: nothing is flushed or closed. */
  kill(): Promise<void>;
}

/**
 * Starts `sotto-server run` as a child process and resolves once it prints that it is listening (or, for a
 * process without HTTP, that it started).
 */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), CLI, "run", ...(options.runArgs ?? [])],
    {
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let err = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    err = (err + chunk.toString("utf8")).slice(-20_000);
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`sotto-server did not start: ${err}`)), START_TIMEOUT_MS);
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
      if (/^sotto-server (listening|started)/m.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`sotto-server exited (${code}) before it started: ${err}`));
    });
  });
  const pid = child.pid as number;
  return {
    pid,
    child,
    cpuMs: () => processCpuMs(pid),
    stderr: () => err,
    stop: () => stopChild(child, exited),
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGKILL");
      await exited;
    },
  };
}
