import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, openSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { STORE_FILE } from "@sotto/daemon";
import { readEndpoint, tokenPath } from "@sotto/daemon/api";
import { programArgs, programEnv, programPath } from "@sotto/daemon/programs";
import { DemoError } from "./errors.js";
import type { AccountPaths } from "./layout.js";

/** The programs of @sotto/daemon (its bundles), run by the same Node as the orchestrator (Node 24). */
export function daemonBinaries(): { sottod: string; sotto: string } {
  return { sottod: programPath("sottod"), sotto: programPath("sotto") };
}

/** A `sottod run` child process that serves its local API. */
export interface RunningDaemon {
  readonly name: string;
  readonly pid: number;
  /** The local API's WebSocket URL (from api.json). */
  readonly apiUrl: string;
  /** The API bearer token file (0600). */
  readonly apiTokenFile: string;
  /** Resolves with the exit code (or signal name) once the process is gone. */
  readonly exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<number | string>;
}

export interface StartDaemonOptions {
  readonly paths: AccountPaths;
  readonly actorId: string;
  /** Receives the daemon's log lines, already made readable. */
  readonly output: (line: string) => void;
  /** Bound on init + start-up (default 60 s). */
  readonly readyTimeoutMs?: number;
}

/**
 * Runs the real sottod for one demo account: `sottod init` on the first run (new encrypted store, device key,
 * account checked against the server), then `sottod run`, ready once it has written its API endpoint.
 */
export async function startDaemon(options: StartDaemonOptions): Promise<RunningDaemon> {
  const { paths } = options;
  const timeoutMs = options.readyTimeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  if (!existsSync(join(paths.stateDir, STORE_FILE))) {
    const init = launch(
      [
        "init",
        "--data",
        paths.stateDir,
        "--actor",
        options.actorId,
        "--token-file",
        paths.serverTokenFile,
        "--device-name",
        `sottod (npm start demo, ${paths.name})`,
        // The embedded server is on loopback and speaks plain HTTP; real servers need neither flag.
        "--allow-private-address",
        "--plain-http-webfinger",
      ],
      paths,
      options.output,
    );
    const code = await withDeadline(init.exited, deadline, () => init.child.kill("SIGKILL"));
    if (code !== 0) {
      throw new DemoError(
        "daemon_failed",
        `sottod init for ${paths.name} failed (${code}); see its lines above`,
      );
    }
  }
  const run = launch(["run", "--data", paths.stateDir], paths, options.output);
  const pid = run.child.pid as number;
  const stop = async (graceMs = 15_000): Promise<number | string> => {
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill("SIGTERM");
    const timer = setTimeout(() => run.child.kill("SIGKILL"), graceMs);
    try {
      return await run.exited;
    } finally {
      clearTimeout(timer);
    }
  };
  let gone = false;
  void run.exited.then(() => {
    gone = true;
  });
  // Ready = the api.json of *this* process (a stale one from an earlier run names another pid).
  for (;;) {
    const endpoint = await readEndpoint(paths.stateDir).catch(() => undefined);
    if (endpoint?.pid === pid) {
      return {
        name: paths.name,
        pid,
        apiUrl: endpoint.url,
        apiTokenFile: tokenPath(paths.stateDir),
        exited: run.exited,
        stop,
      };
    }
    if (gone) {
      throw new DemoError(
        "daemon_failed",
        `sottod for ${paths.name} exited (${await run.exited}) before it was ready; see its lines above`,
      );
    }
    if (Date.now() > deadline) {
      await stop(2_000);
      throw new DemoError("daemon_failed", `sottod for ${paths.name} was not ready within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface Launched {
  readonly child: ChildProcess;
  readonly exited: Promise<number | string>;
}

/** Runs `sottod args` as its users do (its bundle, with its node flags and environment). */
function launch(args: string[], paths: AccountPaths, output: (line: string) => void): Launched {
  const { name } = paths;
  // The passphrase comes on stdin, as from `sottod ... < FILE` (without a terminal sottod reads the first line).
  const passphrase = openSync(paths.passphraseFile, "r");
  // Its own process group: a terminal's Ctrl-C reaches the orchestrator only, which stops each daemon with one
  // SIGTERM (a second signal would kill sottod in the middle of its clean stop).
  const child = spawn(process.execPath, programArgs("sottod", args), {
    stdio: [passphrase, "pipe", "pipe"],
    env: programEnv(),
    detached: true,
  });
  closeSync(passphrase);
  live.add(child);
  const lines = (stream: NodeJS.ReadableStream | null) =>
    stream && createInterface({ input: stream }).on("line", (line) => output(readableLogLine(name, line)));
  lines(child.stdout);
  lines(child.stderr);
  const exited = new Promise<number | string>((resolve) => {
    child.once("exit", (code, signal) => {
      live.delete(child);
      resolve(code ?? signal ?? "unknown");
    });
    child.once("error", () => {
      live.delete(child);
      resolve("spawn failed");
    });
  });
  return { child, exited };
}

/** Children still running; killed if the orchestrator exits without stopping them (an uncaught error). */
const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

const PROMPT = "Passphrase: ";

async function withDeadline<T>(promise: Promise<T>, deadline: number, onTimeout: () => void): Promise<T> {
  const timer = setTimeout(onTimeout, Math.max(0, deadline - Date.now()));
  try {
    return await promise;
  } finally {
    clearTimeout(timer);
  }
}

/** sottod logs one JSON object per line; shown as `[name] level event key=value ...` without the time. */
export function readableLogLine(name: string, text: string): string {
  // sottod prompts for the passphrase even when it reads it from a file; the prompt ends without a newline.
  const line = text.startsWith(PROMPT) ? text.slice(PROMPT.length) : text;
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return `[${name}] ${line}`;
  }
  if (typeof record !== "object" || record === null || Array.isArray(record)) return `[${name}] ${line}`;
  const { time: _time, level, event, actor: _actor, ...fields } = record as Record<string, unknown>;
  const rest = Object.entries(fields)
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(" ");
  return `[${name}] ${[level ?? "", event ?? "", rest].filter((part) => part !== "").join(" ")}`;
}
