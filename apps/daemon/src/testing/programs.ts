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

/** A `sottod run` child process, ready. */
export interface Running {
  readonly child: ChildProcessWithoutNullStreams;
  readonly pid: number;
  /** The API address `sottod_ready` names ("" with `--no-api`). */
  readonly url: string;
  /** The web UI's address `sottod_ready` names, when it serves one. */
  readonly webUrl: string | undefined;
  /** All it wrote to stderr so far (its log lines). */
  stderr(): string;
  /** Resolves with its exit code once it is gone. */
  readonly exited: Promise<number | null>;
  /** Sends `signal` (SIGTERM: a clean stop; SIGKILL: a crash) unless it is gone, then its exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `sottod run ...args` (the built program, as users run it) and resolves once it logs `sottod_ready`;
 * rejects if it exits first, or is not ready within `timeoutMs` (then it is killed). The one helper every test
 * that runs sottod as a program uses.
 */
export function startSottod(
  args: readonly string[],
  options: { readonly stdin?: string; readonly timeoutMs?: number } = {},
): Promise<Running> {
  const child = spawn(process.execPath, programArgs("sottod", ["run", ...args]), {
    stdio: ["pipe", "pipe", "pipe"],
    env: programEnv(),
  });
  let stderr = "";
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  child.stdout.resume();
  child.stdin.end(options.stdin ?? "");
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`sottod was not ready within ${options.timeoutMs ?? 120_000} ms:\n${stderr}`));
      void stop("SIGKILL");
    }, options.timeoutMs ?? 120_000);
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const ready = stderr.split("\n").find((line) => line.includes('"event":"sottod_ready"'));
      if (!ready) return;
      clearTimeout(timer);
      const { api, web } = JSON.parse(ready) as { api?: string; web?: string };
      resolve({
        child,
        pid: child.pid as number,
        url: api ?? "",
        webUrl: web,
        stderr: () => stderr,
        exited,
        stop,
      });
    });
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`sottod exited (${code}) before it was ready:\n${stderr}`));
    });
  });
}
