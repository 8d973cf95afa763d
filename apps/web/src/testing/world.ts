// The real parts the browser tests and the bench run against, on loopback: a sotto-server, sottod processes
// (the bundled program, as users run it, serving the web UI) and in-process daemons for the other side.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Daemon } from "@sotto/daemon";
import { type ApiServer, serveApi } from "@sotto/daemon/api";
import { programArgs, programEnv } from "@sotto/daemon/programs";
import { type SottoServer, startServer } from "@sotto/server";

/** apps/web/dist/www: what the tests serve (built by the package's build, which runs before its tests). */
export const WEB_DIR = fileURLToPath(new URL("../../dist/www/", import.meta.url));

const network = { allowPrivateAddress: true, plainHttpWebFinger: true, timeoutMs: 10_000 } as const;

export interface Sottod {
  readonly name: string;
  readonly actorId: string;
  readonly handle: string;
  readonly dataDir: string;
  readonly port: number;
  readonly webUrl: string;
  readonly pid: number;
  /** SIGKILL (a crash) or SIGTERM; resolves once it is gone. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port (the page's origin). */
  restart(): Promise<Sottod>;
}

export interface InProcess {
  readonly name: string;
  readonly actorId: string;
  readonly handle: string;
  readonly dataDir: string;
  readonly daemon: Daemon;
  readonly api: ApiServer;
}

export interface WebWorld {
  readonly dir: string;
  readonly server: SottoServer;
  /** A user whose sottod runs as a program with the web UI on. */
  sottod(name: string): Promise<Sottod>;
  /** A user whose daemon runs in this process, with its API. */
  inProcess(name: string): Promise<InProcess>;
  /** Runs `sotto` (the CLI) against a user's state dir; resolves with stdout. */
  cli(dataDir: string, args: readonly string[]): Promise<string>;
  close(): Promise<void>;
}

export async function createWebWorld(): Promise<WebWorld> {
  const dir = mkdtempSync(join(tmpdir(), "sotto-web-"));
  // Room for the hostile peer's 2 MB message (a server of the attacker's choosing would take it).
  const server = await startServer({ dataDir: join(dir, "server"), bodyLimit: 8 * 1024 * 1024 });
  const children = new Set<ChildProcess>();
  const inProcess: InProcess[] = [];
  const keyFile = (name: string) => {
    const file = join(dir, `${name}.key`);
    writeFileSync(file, randomBytes(32), { mode: 0o600 });
    return file;
  };
  const handleOf = (name: string) => `@${name}@${server.domain}`;

  const launch = (
    program: "sottod" | "sotto",
    args: readonly string[],
  ): { child: ChildProcess; exited: Promise<number | null>; output: () => string } => {
    const child = spawn(process.execPath, programArgs(program, [...args]), {
      stdio: ["ignore", "pipe", "pipe"],
      env: programEnv(),
    });
    children.add(child);
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) =>
      child.on("exit", (code) => {
        children.delete(child);
        resolve(code);
      }),
    );
    return { child, exited, output: () => output };
  };

  const run = async (
    name: string,
    actorId: string,
    dataDir: string,
    key: string,
    port: number | undefined,
  ): Promise<Sottod> => {
    const args = ["run", "--data", dataDir, "--key-file", key, "--web-dir", WEB_DIR];
    if (port !== undefined) args.push("--api-port", String(port));
    const launched = launch("sottod", args);
    const ready = await new Promise<{ api: string; web: string }>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`sottod ${name} not ready:\n${launched.output()}`)),
        120_000,
      );
      const check = () => {
        const line = launched
          .output()
          .split("\n")
          .find((l) => l.includes('"event":"sottod_ready"'));
        if (line) {
          clearTimeout(timer);
          resolve(JSON.parse(line) as { api: string; web: string });
        }
      };
      launched.child.stderr?.on("data", check);
      void launched.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`sottod ${name} exited (${code}):\n${launched.output()}`));
      });
    });
    const bound = Number(new URL(ready.web).port);
    return {
      name,
      actorId,
      handle: handleOf(name),
      dataDir,
      port: bound,
      webUrl: ready.web,
      pid: launched.child.pid as number,
      async stop(signal = "SIGTERM") {
        launched.child.kill(signal);
        await launched.exited;
      },
      restart: () => run(name, actorId, dataDir, key, bound),
    };
  };

  return {
    dir,
    server,
    async sottod(name) {
      const { actorId, token } = await server.createUser(name);
      const dataDir = join(dir, name);
      const key = keyFile(name);
      const init = launch("sottod", [
        ...["init", "--data", dataDir, "--actor", actorId, "--token", token, "--key-file", key],
        ...["--allow-private-address", "--plain-http-webfinger"],
      ]);
      const code = await init.exited;
      if (code !== 0) throw new Error(`sottod init ${name} failed (${code}):\n${init.output()}`);
      return run(name, actorId, dataDir, key, undefined);
    },
    async inProcess(name) {
      const { actorId, token } = await server.createUser(name);
      const dataDir = join(dir, name);
      const daemon = await Daemon.init({
        dataDir,
        key: { keyFile: keyFile(name) },
        actor: actorId,
        token,
        network,
        pollIntervalMs: 200,
      });
      await daemon.start();
      await daemon.maintainKeyPackages();
      const api = await serveApi(daemon, { stateDir: dataDir });
      const user = { name, actorId, handle: handleOf(name), dataDir, daemon, api };
      inProcess.push(user);
      return user;
    },
    async cli(dataDir, args) {
      const launched = launch("sotto", ["--state-dir", dataDir, ...args]);
      const code = await launched.exited;
      if (code !== 0) throw new Error(`sotto ${args.join(" ")} failed (${code}):\n${launched.output()}`);
      return launched.output();
    },
    async close() {
      for (const child of children) child.kill("SIGKILL");
      for (const user of inProcess) {
        await user.api.close().catch(() => {});
        await user.daemon.stop().catch(() => {});
      }
      await new Promise((r) => setTimeout(r, 500));
      await server.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
