// `sotto-xmpp` (the built dist/cli.js) as a child process on a test Prosody, for tests of the binary and for
// benchmarks that measure the gateway's own CPU apart from its peers'.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { processCpuMs, stopChild } from "@sotto/server/testing";
import type { Prosody } from "./prosody.js";
import { waitFor } from "./wait.js";

// From src/testing and dist/testing alike, two levels up is the package.
const CLI = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));

export interface GatewayProcessOptions {
  readonly prosody: Prosody;
  /** Holds the config, the secret file and the gateway's data directory. */
  readonly dir: string;
  /** The puppets' sotto-server port (0: any free one). */
  readonly port?: number;
  /** Node options of the child, e.g. `--cpu-prof --cpu-prof-dir=DIR` to profile it. */
  readonly nodeArgs?: readonly string[];
}

export interface GatewayProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** CPU time (user + system) the process has used so far, in ms (10 ms resolution, from /proc). */
  cpuMs(): number;
  /** What it logged so far (JSON lines on stderr). */
  stderr(): string;
  /** SIGTERM and wait for its exit (SIGKILL after a bound); answers the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `sotto-xmpp --config` on a config written for `prosody`; resolves once it started and its component is online. */
export async function startGatewayProcess(o: GatewayProcessOptions): Promise<GatewayProcess> {
  mkdirSync(o.dir, { recursive: true });
  writeFileSync(join(o.dir, "secret"), o.prosody.componentSecret, { mode: 0o600 });
  const config = {
    dataDir: join(o.dir, "data"),
    xmpp: {
      service: o.prosody.componentService,
      domain: o.prosody.componentDomain,
      secretFile: join(o.dir, "secret"),
      allowedDomains: [o.prosody.host],
    },
    fediverse: { port: o.port ?? 0, allowPrivateAddress: true },
    media: { port: 0 },
  };
  writeFileSync(join(o.dir, "config.json"), JSON.stringify(config));
  const child = spawn(
    process.execPath,
    [...(o.nodeArgs ?? []), CLI, "--config", join(o.dir, "config.json")],
    {
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-100_000);
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const pid = child.pid as number;
  const handle: GatewayProcess = {
    pid,
    child,
    cpuMs: () => processCpuMs(pid),
    stderr: () => stderr,
    stop: () => stopChild(child, exited),
  };
  try {
    await waitFor("sotto-xmpp's component to be online", () => {
      if (child.exitCode !== null) throw new Error(`sotto-xmpp exited (${child.exitCode}): ${stderr}`);
      return stderr.includes('"gateway.started"') && stderr.includes('"xmpp.online"') ? true : undefined;
    });
  } catch (e) {
    await handle.stop();
    throw e;
  }
  return handle;
}
