// The built programs as child processes, the way users run them: `sottod` until a condition, a long-running
// `sottod run`, and `sotto` with its stdin. Only tests import this.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { programArgs, programEnv } from "../programs.js";

export interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a built program with `stdin` as its input; once `until` holds for its stderr, runs `meanwhile` and sends
 * SIGTERM. Resolves with its exit code, stdout and stderr (killed after 60 s).
 */
export function runProgram(
  program: "sottod" | "sotto",
  args: readonly string[],
  stdin: string,
  options: {
    until?: (stderr: string) => boolean;
    meanwhile?: (stderr: string) => Promise<void>;
    env?: Readonly<Record<string, string>>;
  } = {},
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, programArgs(program, [...args]), {
      stdio: ["pipe", "pipe", "pipe"],
      env: programEnv({ ...process.env, ...options.env }),
    });
    let stderr = "";
    let stdout = "";
    let signalled = false;
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!signalled && options.until?.(stderr)) {
        signalled = true;
        const during = options.meanwhile?.(stderr) ?? Promise.resolve();
        during.then(
          () => child.kill("SIGTERM"),
          (error: unknown) => {
            child.kill("SIGTERM");
            reject(error);
          },
        );
      }
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, stdout });
    });
    child.stdin.end(stdin);
  });
}

export interface Running {
  readonly child: ChildProcessWithoutNullStreams;
  /** The API address `sottod_ready` names. */
  readonly url: string;
  stderr(): string;
  /** SIGTERM, then its exit code. */
  stop(): Promise<number | null>;
}

/** Starts `sottod run ...` and resolves once it logs `sottod_ready` (rejects if it exits first). */
export function startSottod(args: readonly string[], stdin = ""): Promise<Running> {
  const child = spawn(process.execPath, programArgs("sottod", ["run", ...args]), {
    stdio: ["pipe", "pipe", "pipe"],
    env: programEnv(),
  });
  let stderr = "";
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    return exited;
  };
  child.stdin.end(stdin);
  return new Promise((resolve, reject) => {
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const ready = stderr.split("\n").find((line) => line.includes('"event":"sottod_ready"'));
      if (ready)
        resolve({ child, url: (JSON.parse(ready) as { api: string }).api, stderr: () => stderr, stop });
    });
    exited.then((code) => reject(new Error(`sottod exited (${code}) before it was ready:\n${stderr}`)));
  });
}
